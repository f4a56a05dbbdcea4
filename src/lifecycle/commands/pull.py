"""Verb `pull`: fetch the versioned data from the DVC remote, through DVC's Python API."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

HELP = "Fetch the versioned data from the DVC remote (dvc pull of the file tracking data.path)."

REBUILD = (
    "or create the data with `lifecycle generate --rows 30000 --seed 42` and track it with "
    "`dvc add data && dvc push`"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remote", default=None, help="DVC remote to use (default: core.remote)")
    parser.add_argument(
        "--force", action="store_true", help="overwrite local changes to the tracked data"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.data import data_version, dvc_pointer
    from lifecycle.errors import DataError
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    path = settings.data.path
    pointer = dvc_pointer(path)
    if pointer is None:
        raise DataError(
            f"no .dvc file tracks {path} (expected data.dvc beside data/): run from the "
            f"repository root, {REBUILD}"
        )
    result = _pull(pointer, args.remote, args.force)
    changed = [*result.get("added", []), *result.get("modified", [])]
    fetched = result.get("stats", {}).get("fetched", 0)
    state = f"updated {', '.join(changed)}" if changed else "the workspace was already up to date"
    print(f"fetched {fetched} object(s) from the remote; {state}")
    print(f"{path} is at version {data_version(settings, path)}")
    return 0


def _pull(pointer: Path, remote: str | None, force: bool) -> dict:
    """``dvc pull <pointer>``; DVC's own errors become DataErrors that say what to do."""
    from dvc.exceptions import CheckoutError, DvcException
    from dvc.repo import Repo

    from lifecycle.errors import DataError

    route_dvc_logs()
    try:
        with Repo(str(_repo_root(pointer))) as repo:
            print(
                f"pulling {pointer.name} from DVC remote {_describe(repo, remote)} ...", flush=True
            )
            return repo.pull(targets=[str(pointer)], remote=remote, force=force)
    except CheckoutError:
        raise DataError(
            f"dvc pull could not restore {pointer.name}: the remote lacks this version of the "
            f"data. Push it from a machine that has it (`dvc push`), {REBUILD}"
        ) from None
    except DvcException as exc:
        if "without confirmation" in str(exc):  # DVC refuses to overwrite unsaved changes
            raise DataError(
                f"the data tracked by {pointer.name} has local changes that pulling would "
                "overwrite: keep them with `dvc add data` (then `dvc push`), or discard them "
                "with `lifecycle pull --force`"
            ) from None
        raise DataError(f"dvc pull failed for {pointer.name}: {_first_line(exc)}") from None


def route_dvc_logs() -> None:
    """Point DVC's log handlers at the current stdout/stderr.

    ``import dvc`` binds its handlers to the streams of that moment; when the CLI runs in
    process (the pipeline, tests) those streams may since have been replaced or closed.
    """
    for name in ("dvc", "dvc_objects", "dvc_data"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                stream = sys.stderr if handler.level >= logging.WARNING else sys.stdout
                handler.stream = stream  # not setStream: it flushes the old, maybe closed, one


def _repo_root(pointer: Path) -> Path:
    from lifecycle.errors import DataError

    for folder in pointer.absolute().parents:
        if (folder / ".dvc").is_dir():
            return folder
    raise DataError(f"{pointer} is not inside a DVC repository (no .dvc/ folder): run `dvc init`")


def _describe(repo, remote: str | None) -> str:
    name = remote or repo.config.get("core", {}).get("remote")
    if not name:
        return "(none configured: `dvc remote add -d <name> <url>`)"
    url = repo.config.get("remote", {}).get(name, {}).get("url")
    return f"'{name}' ({url})" if url else f"'{name}'"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
