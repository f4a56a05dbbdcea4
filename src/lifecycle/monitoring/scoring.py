"""The model a window is judged against: found in the registry; its probabilities on a frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from numpy.typing import NDArray

from lifecycle.settings import Settings

PROBABILITY = "probability"  # the prediction log's column for P(positive)
VERSION = "model_version"  # the prediction log's column for the model version that scored


@dataclass(frozen=True)
class ModelInfo:
    """A registered version: its number, fitted model, registered metrics and data version."""

    version: str
    model: Any
    metrics: dict[str, float] = field(default_factory=dict)
    data_version: str | None = None


def find_model(
    settings: Settings, ref: str | None, window: pd.DataFrame
) -> tuple[ModelInfo | None, str]:
    """(the model or None, why not). ``ref`` "none" skips; None means the version most logged in
    the window, else the prod environment's alias."""
    if ref is not None and ref.strip().lower() == "none":
        return None, "Model checks skipped (--no-model)."
    ref = ref or default_ref(settings, window)
    if ref is None:
        return None, "No model named (--version, --alias) and no prod environment in the settings."
    from mlflow.exceptions import MlflowException

    from lifecycle.errors import RegistryError
    from lifecycle.registry import models

    try:
        version = models.resolve(settings, ref)
        model = models.load_model(settings, version.version)
    except (RegistryError, MlflowException, OSError) as exc:
        return None, f"Model '{ref}' not available ({exc})."
    tags = version.tags
    metrics = {
        key.removeprefix("metric."): float(value)
        for key, value in tags.items()
        if key.startswith("metric.")
    }
    return ModelInfo(str(version.version), model, metrics, tags.get("data.version")), ""


def default_ref(settings: Settings, window: pd.DataFrame) -> str | None:
    if VERSION in window.columns:
        counts = window[VERSION].dropna().astype(str).value_counts()
        if len(counts):
            return str(counts.index[0])
    if "prod" in settings.environments:
        return settings.environments["prod"].alias_for("prod")
    return None


def probabilities(model: Any, frame: pd.DataFrame, settings: Settings) -> NDArray[Any]:
    from lifecycle.monitoring.stats import one_thread
    from lifecycle.training.model import model_input, positive_proba

    with one_thread():
        return positive_proba(model, model_input(frame, settings))


def row_probabilities(
    model: ModelInfo | None, frame: pd.DataFrame, settings: Settings
) -> tuple[NDArray[Any] | None, str]:
    """P(positive) per row: as logged when every row has it, else scored now by the model."""
    if PROBABILITY in frame.columns:
        logged = pd.to_numeric(frame[PROBABILITY], errors="coerce")
        if logged.notna().all():
            return logged.to_numpy(dtype=float), "logged"
    if model is None:
        return None, ""
    return probabilities(model.model, frame, settings), "scored now"
