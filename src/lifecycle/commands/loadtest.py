"""Verb `loadtest`: the load-test gate (Locust) against the Bento served on loopback."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.gates.result import GateReport
    from lifecycle.serving.loadtest import LoadStats
    from lifecycle.settings import Settings

HELP = "Load-test the Bento with Locust (served on loopback, always stopped); a gate."

LOOPBACK = "127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--bento", help="the Bento tag to test (default: the version's Bento)")
    which.add_argument("--version", help="test the Bento built from this model version")
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
        "--out", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle import github
    from lifecycle.errors import GateFailed
    from lifecycle.gates.result import GateReport, write_reports
    from lifecycle.serving import loadtest
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    gate = settings.gates.loadtest
    if gate.mode == "off":
        report = GateReport(loadtest.GATE, "off")
        version = ""
    else:
        stats, version = _measure(settings, args)
        report = loadtest.evaluate(stats, gate)
    paths = write_reports(report, args.out)
    print(report.to_markdown())
    print(f"\nreports: {', '.join(str(p) for p in paths)}")
    if version:
        _record(settings, version, report)
    github.set_output("passed", str(report.passed).lower())
    github.set_output("report", str(paths[-1]))
    if github.in_actions():
        github.append_summary(report.to_markdown())
    if report.blocking:
        message = f"load-test gate failed: {report.reason()}"
        github.error(message, title="load-test gate")
        raise GateFailed(message)
    return 0


def _measure(settings: Settings, args: argparse.Namespace) -> tuple[LoadStats, str]:
    """Run Locust against --url, or against the Bento served here for the run; (stats, version)."""
    from lifecycle.serving import bento, loadtest, server

    gate = settings.gates.loadtest
    if args.stats:
        return loadtest.read_stats(args.stats), ""
    if args.url:
        url = args.url.rstrip("/")
        stats = loadtest.run_locust(url, gate, args.out)
        print(f"smoke prediction: {loadtest.smoke_prediction(url)}")
        return stats, ""
    bento.use_local_home()
    built = bento.find_bento(settings, args.bento, args.version or args.alias)
    print(f"load-testing {built.tag} (model version {built.model_version}) on {LOOPBACK}")
    log = args.out / "loadtest-server.log"
    timeout = settings.serving.startup_timeout_s
    with (
        tempfile.TemporaryDirectory(prefix="loadtest-predictions-") as predictions,
        # synthetic traffic: its prediction log is thrown away, monitoring never sees it
        server.running(built.tag, LOOPBACK, 0, log, timeout, Path(predictions)) as served,
    ):
        stats = loadtest.run_locust(served.url, gate, args.out)
        print(f"smoke prediction: {loadtest.smoke_prediction(served.url)}")
    return stats, built.model_version


def _record(settings: Settings, version: str, report: GateReport) -> None:
    """The gate's outcome as tags on the model version, like the other gates' run tags."""
    from mlflow import MlflowClient

    from lifecycle import tracking

    tracking.configure()
    client = MlflowClient()
    tags = {"gate.loadtest.passed": str(report.passed).lower(), "gate.loadtest.mode": report.mode}
    tags |= {f"loadtest.{r.metric}": str(r.value) for r in report.results}
    for key, value in tags.items():
        client.set_model_version_tag(settings.model.name, version, key, value)
