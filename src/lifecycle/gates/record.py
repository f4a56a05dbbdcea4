"""Recording gate outcomes in MLflow: on the training run (model gates) or on a model version
(the load-test gate, which tests a registered version's Bento). The tags themselves are
``lifecycle.registry.gate_tags``'s business."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lifecycle.gates.result import GateReport
from lifecycle.settings import Settings


def log_to_run(run_id: str, reports: Sequence[GateReport], out_dir: Path) -> None:
    """The gate tags on the run and the report files as artifacts (gates/)."""
    from mlflow import MlflowClient

    from lifecycle.registry import gate_tags

    client = MlflowClient()
    for report in reports:
        for key, value in gate_tags.write(report).items():
            client.set_tag(run_id, key, value)
        for suffix in (".json", ".md", ".html"):
            path = out_dir / f"{report.gate}{suffix}"
            if path.is_file():
                client.log_artifact(run_id, str(path), artifact_path="gates")


def log_to_version(settings: Settings, version: str, report: GateReport) -> None:
    """The gate tags on a model version, with each check's value as ``<gate>.<metric>``."""
    from mlflow import MlflowClient

    from lifecycle.registry import gate_tags, tracking

    tracking.configure()
    client = MlflowClient()
    tags = gate_tags.write(report)
    tags |= {f"{report.gate}.{r.metric}": str(r.value) for r in report.results}
    for key, value in tags.items():
        client.set_model_version_tag(settings.model.name, version, key, value)


def warn_if_data_changed(run: Any, settings: Settings) -> None:
    """The holdout is recomputed from today's data: say so if it is not the data trained on."""
    from lifecycle.data.dvc import data_version
    from lifecycle.registry import tracking

    trained_on = run.data.tags.get("data.version")
    current = data_version(settings)
    if trained_on and trained_on != current:
        tracking.progress(
            f"warning: run {run.info.run_id} was trained on data {trained_on} but "
            f"{settings.data.path} is now {current}; the holdout may differ from training's"
        )
