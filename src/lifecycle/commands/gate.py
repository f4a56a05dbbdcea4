"""Verb `gate`: the model-stage gates (lifecycle.gates.registry) on a training run's model.

The model comes from the MLflow run; the holdout is recomputed with data.split (the same split
training used). Reports go to reports/ and to the run (artifacts under gates/, tags
gate.<name>.passed and gate.<name>.mode, which `register` reads to refuse a failed model).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Run the model-stage gates (model, bias, quality) on a training run (default: the latest)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only",
        metavar="GATE[,GATE...]",
        help="comma-separated model-stage gates to run (default: all of them, see docs/gates.md)",
    )
    parser.add_argument("--run-id", help="the training run to gate (default: the latest)")
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.data.dataset import load_dataset, split
    from lifecycle.gates import record, registry
    from lifecycle.gates.publish import publish, verdict
    from lifecycle.github import actions
    from lifecycle.registry import models, tracking
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    gates = registry.select(args.only, "model")
    run_id = args.run_id or tracking.latest_run_id(settings)
    training = tracking.training_run(run_id)
    record.warn_if_data_changed(training, settings)
    tracking.progress(f"gating run {run_id}: {', '.join(g.name for g in gates)}…")
    train_df, test_df = split(load_dataset(settings), settings)
    context = registry.Context(
        settings, args.reports, model=models.load_run_model(run_id), train=train_df, test=test_df
    )
    reports = [registry.run(gate, context) for gate in gates]
    publish(reports, args.reports, verbose=args.verbose)
    record.log_to_run(run_id, reports, args.reports)
    actions.set_output("run-id", run_id)
    return verdict(reports, args.reports)
