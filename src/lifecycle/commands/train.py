"""Verb `train`: fit the pipeline on the train split, evaluate on the holdout, track in MLflow.

Prints a compact summary (rows, holdout metrics, the run id); the full report (metrics,
labels, hyperparameters) goes to reports/train.md and the job summary, and with --verbose to
the terminal too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Train the model (optional hyperparameter search) and track the run in MLflow."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Everything about the model is in params.yaml."""
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.gates.result import write_text
    from lifecycle.github import actions
    from lifecycle.registry import tracking
    from lifecycle.settings import load_settings
    from lifecycle.training.fit import train

    settings = load_settings(args.params)
    result = train(settings)
    markdown = result.to_markdown()
    report = args.reports / "train.md"
    write_text(report, markdown + "\n")
    metrics = "  ".join(f"{name} {value:.4f}" for name, value in result.metrics.items())
    print(f"trained {result.estimator} on {result.train_rows} rows in {result.seconds:.1f} s")
    print(f"holdout ({result.test_rows} rows): {metrics}")
    print(f"tracking: {tracking.describe_uri()}  experiment: {settings.model.name}")
    print(f"run id: {result.run_id}")
    print("\n" + markdown if args.verbose else f"full report: {report} (or --verbose)")
    actions.set_output("run-id", result.run_id)
    actions.set_output("model-uri", result.model_uri)
    actions.append_summary(markdown, echo=False)
    return 0
