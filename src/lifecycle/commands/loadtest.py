"""Verb `loadtest`: the load-test gate (Locust) against the Bento served on loopback."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.serving.loadtest import LoadStats
    from lifecycle.settings import LoadTestGate, Settings

HELP = "Load-test the Bento with Locust (served on loopback, always stopped); a gate."

LOOPBACK = "127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--bento", help="the Bento tag to test (default: the version's Bento)")
    which.add_argument(
        "--version", type=int, metavar="N", help="test the Bento built from this model version"
    )
    which.add_argument(
        "--alias", help="test the Bento of this alias's version (default: candidate)"
    )
    which.add_argument("--url", help="test a server that already runs at this URL instead")
    which.add_argument(
        "--stats",
        type=Path,
        help="judge a finished Locust run's <prefix>_stats.csv (e.g. a distributed run) instead",
    )
    parser.add_argument(
        "--bento-file",
        type=Path,
        help="an exported Bento (.bento) to import first, if the store lacks --bento",
    )
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.gates import record, registry
    from lifecycle.gates.publish import publish, verdict
    from lifecycle.github import actions
    from lifecycle.serving import loadtest
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    gate = registry.get("loadtest")
    measured, version = None, ""
    if gate.mode(settings) != "off":
        stats, version = _measure(settings, args)
        measured = loadtest.evaluate(stats, settings.gates.loadtest)
    report = registry.run(gate, registry.Context(settings, args.reports, measured=measured))
    paths = publish([report], args.reports, verbose=args.verbose)
    if version:
        record.log_to_version(settings, version, report)
    actions.set_output("report", str(paths[-1]))
    return verdict([report], args.reports)


def _measure(settings: Settings, args: argparse.Namespace) -> tuple[LoadStats, str]:
    """Run Locust against --url, or against the Bento served here for the run; (stats, version)."""
    from lifecycle.registry import tracking
    from lifecycle.serving import bento, loadtest, server

    gate = settings.gates.loadtest
    if args.stats:
        return loadtest.read_stats(args.stats), ""
    if args.url:
        url = args.url.rstrip("/")
        tracking.progress(_locust_line(gate, url))
        stats = loadtest.run_locust(url, gate, args.reports)
        print(f"smoke prediction: {loadtest.smoke_prediction(url)}")
        return stats, ""
    bento.use_local_home()
    if args.bento_file is not None:
        _import(args.bento_file, args.bento)
    ref = str(args.version) if args.version is not None else args.alias
    built = bento.find_bento(settings, args.bento, ref)
    print(f"load-testing {built.tag} (model version {built.model_version}) on {LOOPBACK}")
    log = args.reports / "loadtest-server.log"
    timeout = settings.serving.startup_timeout_s
    tracking.progress(f"starting the server (ready within {timeout:g} s, log {log})…")
    with (
        tempfile.TemporaryDirectory(prefix="loadtest-predictions-") as predictions,
        # synthetic traffic: its prediction log is thrown away, monitoring never sees it
        server.running(built.tag, LOOPBACK, 0, log, timeout, Path(predictions)) as served,
    ):
        tracking.progress(_locust_line(gate, served.url))
        stats = loadtest.run_locust(served.url, gate, args.reports)
        print(f"smoke prediction: {loadtest.smoke_prediction(served.url)}")
    return stats, built.model_version


def _locust_line(gate: LoadTestGate, url: str) -> str:
    workers = f", {gate.workers} Locust workers" if gate.workers else ""
    return f"Locust: {gate.users} users for {gate.duration_s:g} s against {url}{workers}…"


def _import(path: Path, tag: str | None) -> None:
    from lifecycle.deploy.deployment import import_bento
    from lifecycle.errors import UsageError

    if tag is None:
        raise UsageError("--bento-file needs --bento TAG: the Bento it should hold")
    import_bento(path, tag)
