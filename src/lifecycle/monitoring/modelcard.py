"""A Markdown model card for a registered version, from what the registry already records.

Data, parameters and metrics come from the version's training run; gate results from the
version's ``gate.*`` tags; fairness from the bias gate's report logged on the run (gates/bias.json);
intended use and limitations from params.yaml (model.card); deployments from the history.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from lifecycle.errors import RegistryError
from lifecycle.gates.result import GateReport, format_value
from lifecycle.settings import Settings

METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "brier")
DATA_PARAMS = ("data.", "split.", "features.")


def build_card(settings: Settings, ref: str) -> tuple[str, str]:
    """(version number, the card in Markdown) for a version number or alias."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from lifecycle.registry import aliases, models

    version = models.resolve(settings, ref)
    number, tags = str(version.version), dict(version.tags)
    run = None
    if tags.get("run_id"):
        try:
            run = MlflowClient().get_run(tags["run_id"])
        except MlflowException:
            run = None  # deleted: the version's tags still say most of it
    params = dict(run.data.params) if run else {}
    metrics = dict(run.data.metrics) if run else _tag_metrics(tags)
    held = sorted(a for a, v in aliases.current(settings).items() if v == number)
    moves = [e for e in aliases.history(settings) if str(e.get("to")) == number]
    sections = [
        _header(settings, version, held),
        "## Intended use\n\n" + settings.model.card.intended_use,
        _data(settings, tags, params),
        _parameters(params),
        _metrics(settings, metrics),
        _gates(tags),
        _fairness(tags.get("run_id")),
        _limitations(settings, tags),
        _deployments(moves),
    ]
    return number, "\n\n".join(sections) + "\n"


def _tag_metrics(tags: dict[str, str]) -> dict[str, float]:
    return {k.removeprefix("metric."): float(v) for k, v in tags.items() if k.startswith("metric.")}


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [format_value(c) if not isinstance(c, str) else c for c in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _stamp(milliseconds: int | None) -> str:
    if not milliseconds:
        return "unknown"
    moment = datetime.fromtimestamp(milliseconds / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _header(settings: Settings, version: Any, aliases: list[str]) -> str:
    tags = version.tags
    dirty = " (uncommitted changes)" if tags.get("git.dirty") == "true" else ""
    rows = [
        ("model", f"`{settings.model.name}` version {version.version}"),
        ("registered", _stamp(version.creation_timestamp)),
        ("aliases now", ", ".join(aliases) or "none"),
        ("estimator", f"`{tags.get('estimator', settings.model.estimator)}`"),
        ("training run", f"`{tags.get('run_id', 'unknown')}`"),
        ("code", f"git commit `{tags.get('git.commit', 'unknown')}`{dirty}"),
        ("made by", f"lifecycle {tags.get('lifecycle.version', 'unknown')}"),
    ]
    title = f"# Model card: {settings.model.name} v{version.version}"
    return f"{title}\n\n{_table(('', ''), rows)}"


def _data(settings: Settings, tags: dict[str, str], params: dict[str, str]) -> str:
    data = settings.data
    rows = [
        ("data version", f"`{tags.get('data.version', 'unknown')}`"),
        ("file", f"`{tags.get('data.path', data.path)}`"),
        ("target", f"`{params.get('data.target', data.target)}` (positive: {data.positive_label})"),
        (
            "rows",
            f"{params.get('data.train_rows', '?')} train, "
            f"{params.get('data.test_rows', '?')} holdout",
        ),
        ("numeric features", _listed(params.get("features.numeric"), data.features.numeric)),
        (
            "categorical features",
            _listed(params.get("features.categorical"), data.features.categorical),
        ),
        ("protected attributes (not features)", ", ".join(data.protected_attributes) or "none"),
        (
            "split",
            f"test size {params.get('split.test_size', data.split.test_size)}, "
            f"seed {params.get('split.seed', data.split.seed)}",
        ),
    ]
    return "## Data\n\n" + _table(("", ""), rows)


def _listed(logged: str | None, configured: list[str]) -> str:
    """A run's comma-joined list param (what it trained on), else the configured list."""
    return ", ".join(logged.split(",") if logged else configured)


def _parameters(params: dict[str, str]) -> str:
    rows = sorted((k, v) for k, v in params.items() if not k.startswith(DATA_PARAMS))
    if not rows:
        return "## Parameters\n\nThe training run is not available."
    return "## Parameters\n\n" + _table(("parameter", "value"), rows)


def _metrics(settings: Settings, metrics: dict[str, float]) -> str:
    minimum = settings.gates.model.thresholds
    rows = [(m, metrics[m], minimum.get(m)) for m in METRICS if m in metrics]
    return "## Metrics (holdout)\n\n" + _table(("metric", "value", "gate minimum"), rows)


def _gates(tags: dict[str, str]) -> str:
    from lifecycle.gates.registry import ordered
    from lifecycle.registry import gate_tags

    recorded = gate_tags.read(tags)
    if not recorded:
        return "## Gate results\n\nNo gate results were recorded on the training run."
    rows = [
        (name, recorded[name].mode, "✅ pass" if recorded[name].passed else "❌ fail")
        for name in ordered(recorded)
    ]
    return "## Gate results\n\n" + _table(("gate", "mode", "result"), rows)


def _fairness(run_id: str | None) -> str:
    report = bias_report(run_id) if run_id else None
    if report is None:
        return (
            "## Fairness\n\nNo bias gate report was logged on the training run: run "
            "`lifecycle gate --only bias --run-id <run>` to check it."
        )
    body = report.to_markdown().replace(f"### Gate `{report.gate}`", "Bias gate", 1)
    return "## Fairness\n\n" + body


def bias_report(run_id: str) -> GateReport | None:
    """The bias gate's report logged on the run (artifact gates/bias.json), if any."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from lifecycle.gates.pr_report import load_reports

    with tempfile.TemporaryDirectory() as folder, _quiet_downloads():
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path="gates/bias.json", dst_path=folder
            )
        except (MlflowException, OSError):
            return None
        found = [r for r in load_reports(Path(local).parent) if r.gate == "bias"]
    return found[0] if found else None


def _quiet_downloads() -> Any:
    """No MLflow progress bar for one small file (it would clutter the printed card's log)."""
    return mock.patch.dict(os.environ, {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"})


def log_card(run_id: str, card: str) -> None:
    """Log the card beside its training run (model-card.md); registry faults are RegistryErrors."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        MlflowClient().log_text(run_id, card, "model-card.md")
    except MlflowException as exc:
        raise RegistryError(f"the model card could not be logged to run {run_id}: {exc}") from None


def _limitations(settings: Settings, tags: dict[str, str]) -> str:
    items = [
        *settings.model.card.limitations,
        f"Measured on a holdout of data version `{tags.get('data.version', 'unknown')}` only; "
        "elsewhere its performance is unknown until labels arrive.",
    ]
    return "## Limitations\n\n" + "\n".join(f"- {item}" for item in items)


def _deployments(moves: list[dict[str, Any]]) -> str:
    if not moves:
        return "## Deployments\n\nNever promoted to an environment."
    rows = [
        (m["at"], m["action"], m["environment"], m.get("actor", ""), m.get("reason", ""))
        for m in moves
    ]
    return "## Deployments\n\n" + _table(("at", "action", "environment", "by", "reason"), rows)
