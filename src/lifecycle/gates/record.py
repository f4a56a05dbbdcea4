"""Running the model-side gates by name and recording their outcome on the MLflow run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle.gates.result import GateReport
from lifecycle.settings import Settings


def run_gate(
    name: str,
    model: Any,
    train_df: pd.DataFrame,
    test_df: pd.DataFrame,
    settings: Settings,
    out_dir: Path,
) -> GateReport:
    """One of model, bias, quality on the run's model and the recomputed holdout."""
    from lifecycle import tracking

    tracking.progress(f"gate {name}…")
    if name == "model":
        from lifecycle.gates.contract import load_contract
        from lifecycle.gates.model_tests import run_model_tests

        contract = load_contract(settings)
        return run_model_tests(model, train_df, test_df, settings, contract, out_dir)
    if name == "bias":
        from lifecycle.gates.bias import run_bias

        return run_bias(model, test_df, settings, out_dir)
    from lifecycle.gates.quality import find_champion, run_quality

    off = settings.gates.quality.mode == "off"
    return run_quality(model, test_df, settings, None if off else find_champion(settings))


def log_to_run(run_id: str, reports: list[GateReport], out_dir: Path) -> None:
    """Tags gate.<name>.passed / gate.<name>.mode and the report files as artifacts (gates/)."""
    from mlflow import MlflowClient

    client = MlflowClient()
    for report in reports:
        client.set_tag(run_id, f"gate.{report.gate}.passed", str(report.passed).lower())
        client.set_tag(run_id, f"gate.{report.gate}.mode", report.mode)
        for suffix in (".json", ".md", ".html"):
            path = out_dir / f"{report.gate}{suffix}"
            if path.is_file():
                client.log_artifact(run_id, str(path), artifact_path="gates")


def warn_if_data_changed(run: Any, settings: Settings) -> None:
    """The holdout is recomputed from today's data: say so if it is not the data trained on."""
    from lifecycle import tracking
    from lifecycle.data import data_version

    trained_on = run.data.tags.get("data.version")
    current = data_version(settings)
    if trained_on and trained_on != current:
        tracking.progress(
            f"warning: run {run.info.run_id} was trained on data {trained_on} but "
            f"{settings.data.path} is now {current}; the holdout may differ from training's"
        )
