"""Verb `drift`: the served model's recent traffic (prediction logs) against its training data.

Writes reports/drift.json, .md and .html, appends the Markdown to the job summary (through the
one gate publish path) and sets the outputs ``passed``, ``drift`` (true|false), ``status`` (ok |
drift | quality | not-enough-data | off), ``drifted-features`` and ``broken-features``
(comma-separated). Exit 1 when a check fails and gates.drift.mode is enforce (drift, decay or
broken feature quality); 0 otherwise, including for a window too small to judge.
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
    model = parser.add_mutually_exclusive_group()
    model.add_argument(
        "--version",
        type=int,
        metavar="N",
        help="registered model version for prediction drift and decay (default: the version "
        "most logged in the window, else the prod environment's alias)",
    )
    model.add_argument("--alias", help="the registered model version under this alias instead")
    model.add_argument(
        "--no-model", action="store_true", help="skip the model checks (prediction drift, decay)"
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
    from lifecycle.gates import registry
    from lifecycle.gates.publish import publish, verdict
    from lifecycle.github import actions
    from lifecycle.monitoring import drift_report
    from lifecycle.monitoring.drift import check_drift
    from lifecycle.monitoring.window import read_window
    from lifecycle.registry import tracking
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    source = args.current or settings.serving.prediction_log.path
    # in a workflow a missing log is a broken setup, never "not enough data" for ever
    required = args.current is not None or actions.in_actions()
    window = read_window(source, settings, must_exist=required, days=args.days)
    tracking.progress(f"window: {len(window.frame)} rows from {source}")
    reference, model, labels, notes = None, None, None, list[str]()
    if settings.gates.drift.mode != "off" and len(window.frame) >= settings.gates.drift.min_rows:
        reference, model, labels, notes = _inputs(args, settings, window)
    outcome = check_drift(reference, window, settings, model, labels)
    context = registry.Context(settings, args.reports, measured=outcome.report)
    report = registry.run(registry.get("drift"), context)
    about = drift_report.context(window, reference, model, notes)
    drift_report.write(outcome, about, args.reports)
    markdown = drift_report.to_markdown(outcome, about)
    publish([report], args.reports, markdown, written=True, verbose=args.verbose)
    for name, value in {
        "drift": str(outcome.drift).lower(),
        "status": outcome.status,
        "drifted-features": ",".join(outcome.drifted),
        "broken-features": ",".join(outcome.broken),
    }.items():
        actions.set_output(name, value)
    return verdict([report], args.reports)


def _inputs(
    args: argparse.Namespace, settings: Settings, window: Window
) -> tuple[Any, Any, Any, list[str]]:
    """(reference, model, labels, notes) for a window big enough to judge."""
    from lifecycle.monitoring.reference import load_reference
    from lifecycle.monitoring.scoring import find_model
    from lifecycle.monitoring.window import read_window
    from lifecycle.registry import tracking

    ref = "none" if args.no_model else _ref(args)
    model, note = find_model(settings, ref, window.frame)
    version = args.reference_version or (model.data_version if model else None)
    tracking.progress(f"reference: data version {version or 'in the workspace'}…")
    reference = load_reference(settings, version)
    labels = read_window(args.labels, settings).frame if args.labels else None
    return reference, model, labels, [note] if note else []


def _ref(args: argparse.Namespace) -> str | None:
    return str(args.version) if args.version is not None else args.alias
