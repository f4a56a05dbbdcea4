"""Helpers of the fault family: the CLI in a forked child, and the registry's invariants."""

from __future__ import annotations

import contextlib
import io
import itertools
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

CHILD_TIMEOUT_S = 120
TIMEOUT_S = "2"  # LIFECYCLE_REGISTRY_TIMEOUT_S in the children: faults surface fast


@dataclass
class Done:
    code: int | None
    output: str
    seconds: float


def _child(argv: list[str], uri: str, out: str, go) -> None:
    from lifecycle import cli

    os.environ.update(MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri)
    os.environ["LIFECYCLE_REGISTRY_TIMEOUT_S"] = TIMEOUT_S
    if go is not None:
        go.wait(60)
    code = 3
    with open(out, "w", encoding="utf-8") as handle:
        try:
            with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
                sys.stdin = io.StringIO()
                code = cli.main(argv)
        except BaseException as exc:  # an escaped exception is a finding: show it
            import traceback

            handle.write("Traceback\n" + "".join(traceback.format_exception(exc)))
        handle.flush()
    os._exit(code)


def start_cli(argv: list[str], uri: str, out: Path, go=None):
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_child, args=(argv, uri, str(out), go))
    child.start()
    return child


def finish(child, out: Path, started: float) -> Done:
    child.join(CHILD_TIMEOUT_S)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"lifecycle did not end within {CHILD_TIMEOUT_S} s: {out.read_text()}")
    return Done(child.exitcode, out.read_text(encoding="utf-8"), time.monotonic() - started)


def leases_of(settings) -> list[str]:
    from mlflow import MlflowClient

    from lifecycle.registry.lease import INFIX

    prefix = f"{settings.model.name}{INFIX}"
    found = MlflowClient().search_registered_models(filter_string=f"name LIKE '{prefix}%'")
    return [m.name for m in found if m.name.startswith(prefix)]


def inconsistencies(settings, alias: str = "prod") -> list[str]:
    """What is wrong with the alias and its history, after the repair any read makes."""
    from lifecycle.registry import aliases

    entries = [e for e in aliases.history(settings) if e["alias"] == alias]
    now = aliases.current(settings).get(alias)
    problems = []
    last = entries[-1]["to"] if entries else None
    if now != last:
        problems.append(f"alias {alias} at {now} but the last history entry says {last}")
    for before, after in itertools.pairwise(entries):
        if after["from"] != before["to"]:
            problems.append(f"entry {after} does not follow {before}")
    if leases_of(settings):
        problems.append(f"leases left: {leases_of(settings)}")
    return problems
