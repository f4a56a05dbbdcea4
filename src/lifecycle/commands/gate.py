"""Verb `gate`: model tests, bias checks and challenger vs champion on a training run's model.

The model comes from the MLflow run; the holdout is recomputed with data.split (the same split
training used). Reports go to reports/ and to the run (artifacts under gates/, tags
gate.<name>.passed and gate.<name>.mode, which `register` reads to refuse a failed model).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Run the model, bias and quality gates on a training run (default: the latest)."
GATES = ("model", "bias", "quality")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only",
        default=",".join(GATES),
        help=f"comma-separated gates to run (default: {','.join(GATES)})",
    )
    parser.add_argument("--run-id", help="the training run to gate (default: the latest)")
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def selected(only: str) -> list[str]:
    from lifecycle.errors import UsageError

    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in GATES]
    if unknown or not names:
        raise UsageError(
            f"--only: unknown gate(s) {', '.join(unknown) or '(none given)'}; choose from "
            f"{', '.join(GATES)}"
        )
    return [name for name in GATES if name in names]


def run(args: argparse.Namespace) -> int:
    from lifecycle import github, registry, tracking
    from lifecycle.data import load_dataset, split
    from lifecycle.gates import record
    from lifecycle.gates.publish import publish, verdict
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    gates = selected(args.only)
    run_id = args.run_id or tracking.latest_run_id(settings)
    training = tracking.training_run(run_id)
    record.warn_if_data_changed(training, settings)
    tracking.progress(f"gating run {run_id}: {', '.join(gates)}…")
    model = registry.load_run_model(run_id)
    train_df, test_df = split(load_dataset(settings), settings)
    reports = [
        record.run_gate(name, model, train_df, test_df, settings, args.reports) for name in gates
    ]
    publish(reports, args.reports)
    record.log_to_run(run_id, reports, args.reports)
    github.set_output("passed", str(not any(r.blocking for r in reports)).lower())
    github.set_output("run-id", run_id)
    return verdict(reports, args.reports)
