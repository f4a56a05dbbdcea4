"""Verb `drift`: the served model's recent traffic (prediction logs) against its training data.

Writes reports/drift.json, .md and .html, appends the Markdown to the job summary and sets the
outputs ``drift`` (true|false), ``status`` (ok | drift | quality | not-enough-data | off),
``drifted-features`` and ``broken-features`` (comma-separated). Exit 1 when a check fails and
gates.drift.mode is enforce (drift, decay or broken feature quality); 0 otherwise, including
for a window too small to judge.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lifecycle.monitoring.window import Window
    from lifecycle.settings import Settings

HELP = "Compare prediction logs (or a batch) with the training data: drift, missing values, decay."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--current",
        metavar="PATH_OR_URL",
        help="prediction log folder or file, or a .parquet/.csv/.jsonl batch; any fsspec URL "
        "(default: serving.prediction_log.path)",
    )
    parser.add_argument(
        "--reference-version",
        metavar="VERSION",
        help="DVC data version (md5 in data.dvc) to compare with (default: the one the model "
        "was trained on, else the data in the workspace)",
    )
    parser.add_argument(
        "--model",
        metavar="VERSION_OR_ALIAS",
        help="registered model for prediction drift and decay (default: the version most "
        "logged in the window, else the prod alias; 'none' to skip)",
    )
    parser.add_argument(
        "--labels",
        metavar="PATH_OR_URL",
        help="delayed labels (data.target plus data.id_column or request_id) for decay",
    )
    parser.add_argument("--days", type=float, help="only records of the last DAYS days")
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle import github, tracking
    from lifecycle.errors import GateFailed
    from lifecycle.monitoring import drift_report
    from lifecycle.monitoring.drift import check_drift
    from lifecycle.monitoring.window import read_window
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    source = args.current or settings.serving.prediction_log.path
    window = read_window(source, settings, must_exist=args.current is not None, days=args.days)
    tracking.progress(f"window: {len(window.frame)} rows from {source}")
    reference, model, labels, notes = None, None, None, []
    if settings.gates.drift.mode != "off" and len(window.frame) >= settings.gates.drift.min_rows:
        reference, model, labels, notes = _inputs(args, settings, window)
    outcome = check_drift(reference, window, settings, model, labels)
    about = drift_report.context(window, reference, model, notes)
    drift_report.write(outcome, about, args.reports)
    github.append_summary(drift_report.to_markdown(outcome, about))
    for name, value in {
        "drift": str(outcome.drift).lower(),
        "status": outcome.status,
        "drifted-features": ",".join(outcome.drifted),
        "broken-features": ",".join(outcome.broken),
    }.items():
        github.set_output(name, value)
    if not outcome.report.passed and outcome.report.mode != "off":
        annotate = github.error if outcome.report.blocking else github.warning
        annotate(outcome.report.reason(), title=f"drift check: {outcome.status}")
    if outcome.report.blocking:
        raise GateFailed(
            f"drift check failed ({outcome.status}): {outcome.report.reason()}. Details in "
            f"{args.reports}/drift.md; to report without failing, set gates.drift.mode to warn."
        )
    return 0


def _inputs(
    args: argparse.Namespace, settings: Settings, window: Window
) -> tuple[Any, Any, Any, list[str]]:
    """(reference, model, labels, notes) for a window big enough to judge."""
    from lifecycle import tracking
    from lifecycle.monitoring.reference import load_reference
    from lifecycle.monitoring.scoring import find_model
    from lifecycle.monitoring.window import read_window

    model, note = find_model(settings, args.model, window.frame)
    version = args.reference_version or (model.data_version if model else None)
    tracking.progress(f"reference: data version {version or 'in the workspace'}…")
    reference = load_reference(settings, version)
    labels = read_window(args.labels, settings).frame if args.labels else None
    return reference, model, labels, [note] if note else []
