"""Verb `train`: fit the pipeline on the train split, evaluate on the holdout, track in MLflow."""

from __future__ import annotations

import argparse

HELP = "Train the model (optional hyperparameter search) and track the run in MLflow."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`train` takes only --params: everything else is in params.yaml."""


def run(args: argparse.Namespace) -> int:
    from lifecycle import github, tracking
    from lifecycle.settings import load_settings
    from lifecycle.train import train

    settings = load_settings(args.params)
    result = train(settings)
    metrics = "  ".join(f"{name} {value:.4f}" for name, value in result.metrics.items())
    print(
        f"trained {settings.model.estimator.rpartition('.')[2]} on {result.train_rows} rows "
        f"in {result.seconds:.1f} s"
    )
    print(f"holdout ({result.test_rows} rows): {metrics}")
    print(f"tracking: {tracking.describe_uri()}  experiment: {settings.model.name}")
    print(f"run id: {result.run_id}")
    github.set_output("run-id", result.run_id)
    github.set_output("model-uri", result.model_uri)
    if github.in_actions():
        rows = "\n".join(f"| {name} | {value:.4f} |" for name, value in result.metrics.items())
        github.append_summary(
            f"### Training\n\nRun `{result.run_id}`, {result.train_rows} training rows, "
            f"{result.test_rows} holdout rows.\n\n| metric | holdout |\n|---|---:|\n{rows}"
        )
    return 0
