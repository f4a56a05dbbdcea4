"""Training: one scikit-learn Pipeline (preprocessing inside the model), tracked in MLflow.

Because imputation, scaling and encoding live inside the logged model, serving feeds it the
same raw columns training saw and the two can never diverge. Same data, settings and seed give
the same model and identical predictions.
"""

from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lifecycle.errors import ConfigError, DataError
from lifecycle.settings import Settings

METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "brier")
MODEL_NAME = "model"  # the logged model's name inside its run
MISSING_CATEGORY = "missing"
POSITIVE = 1  # data.features_and_target maps data.positive_label to 1, the rest to 0
LABELS = "labels"  # the key of the target's two values in the logged model's metadata (MLmodel)

Label = bool | int | str  # a value of the target: text, a boolean or an integer


@dataclass(frozen=True)
class Labels:
    """The target's two values. The model is trained on 0/1, ``POSITIVE`` (1) standing for
    ``positive`` (data.positive_label) and 0 for ``negative``; whoever answers with the model's
    prediction (the service, batch scoring) maps it back with ``of``."""

    negative: Label = 0
    positive: Label = 1

    def of(self, classes: Any) -> NDArray[Any]:
        """The original label of each of the model's classes (``model.classes_``), in order: a
        numpy array of the labels' own type (text, booleans or integers)."""
        return np.asarray([self.positive if c == POSITIVE else self.negative for c in classes])

    def metadata(self) -> dict[str, dict[str, Label]]:
        """What the logged model's metadata holds about them (``read_labels`` reads it back)."""
        return {LABELS: {"negative": self.negative, "positive": self.positive}}


def target_labels(target: pd.Series, positive: Label) -> Labels:
    """The target's two values as the data holds them (Python values), the positive one being
    the value equal to ``positive`` (data.positive_label)."""
    values = [_plain(v) for v in pd.unique(target.dropna())]
    same = [v for v in values if v == positive]
    others = [v for v in values if v != positive]
    if len(same) != 1 or len(others) != 1:
        raise DataError(
            f"target '{target.name}' holds {values[:5]!r}: a binary classifier needs two "
            f"values, one of them data.positive_label {positive!r}"
        )
    return Labels(negative=others[0], positive=same[0])


def read_labels(metadata: dict[str, Any] | None) -> Labels:
    """The labels in a logged model's metadata; a model logged without them was trained on
    0/1 labels and predicts 0/1."""
    found = (metadata or {}).get(LABELS) or {}
    return Labels(negative=found.get("negative", 0), positive=found.get("positive", 1))


def _plain(value: Any) -> Label:
    """A numpy scalar as the Python value it holds (a whole float as an integer)."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, bool | int | str):
        raise DataError(f"a target value {value!r} is neither text, a boolean nor an integer")
    return value


def estimator_class(settings: Settings) -> type:
    """The class named by model.estimator (a full import path)."""
    path = settings.model.estimator
    module_name, _, class_name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name) if module_name else None
    except (ImportError, AttributeError, ValueError) as exc:
        found, reason = None, f" ({exc})"
    else:
        reason = ""
    if not isinstance(found, type):
        raise ConfigError(
            f"{settings.source}: model.estimator: cannot import '{path}'{reason}. Give a full "
            "import path such as sklearn.ensemble.HistGradientBoostingClassifier."
        )
    if not hasattr(found, "predict_proba"):
        raise ConfigError(
            f"{settings.source}: model.estimator: {path} has no predict_proba; the gates and the "
            "service need probabilities, so choose a probabilistic classifier."
        )
    return found


def estimator_params(
    settings: Settings, overrides: dict[str, Any] | None = None, key: str = "model.params"
) -> dict[str, Any]:
    """model.params (plus search overrides), checked against the estimator, with the seed."""
    cls = estimator_class(settings)
    try:
        accepted = cls().get_params(deep=False)
    except Exception as exc:
        raise ConfigError(
            f"{settings.source}: model.estimator: {cls.__name__} cannot be built with defaults "
            f"({exc})"
        ) from None
    params = {**settings.model.params, **(overrides or {})}
    for name in params:
        if name not in accepted:
            close = difflib.get_close_matches(name, list(accepted), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            where = "model.params" if name in settings.model.params else key
            raise ConfigError(
                f"{settings.source}: {where}.{name}: {cls.__name__} has no parameter '{name}'{hint}"
            )
    if "random_state" in accepted and "random_state" not in params:
        params["random_state"] = settings.model.seed
    return params


def build_pipeline(settings: Settings, overrides: dict[str, Any] | None = None) -> Pipeline:
    """Preprocessing (impute, scale, one-hot) and the configured estimator, unfitted."""
    features = settings.data.features
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    preprocess = ColumnTransformer(
        [("numeric", numeric, features.numeric), ("categorical", categorical, features.categorical)]
    )
    params = estimator_params(settings, overrides)
    estimator = estimator_class(settings)(**params)
    _validate_values(settings, estimator, params)
    return Pipeline([("preprocess", preprocess), ("model", estimator)])


def _validate_values(settings: Settings, estimator: Any, params: dict[str, Any]) -> None:
    """Check hyperparameter values now (scikit-learn would only complain at fit time)."""
    validate = getattr(estimator, "_validate_params", None)
    if validate is None:
        return
    try:
        validate()
    except (ValueError, TypeError) as exc:
        match = re.search(r"The '(\w+)' parameter", str(exc))
        name = match.group(1) if match and match.group(1) in params else None
        key = f"model.params.{name}" if name else "model.params"
        raise ConfigError(f"{settings.source}: {key}: {exc}") from None


def model_input(frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The feature columns as the model takes them: numeric ones as float64 (missing-safe)."""
    features = settings.data.features
    missing = [c for c in features.all if c not in frame.columns]
    if missing:
        raise DataError(f"feature column(s) missing: {', '.join(missing)}")
    out = frame[features.all].copy()
    for column in features.numeric:
        try:
            out[column] = out[column].astype("float64")
        except (TypeError, ValueError):
            raise DataError(
                f"column '{column}' should be numeric (data.features.numeric) but holds "
                f"{frame[column].dtype} values"
            ) from None
    return out


def positive_proba(model: Pipeline, X: pd.DataFrame) -> NDArray[Any]:
    """P(positive) for each row; the model is trained on 0/1 labels, 1 being data.positive_label."""
    return np.asarray(model.predict_proba(X)[:, list(model.classes_).index(POSITIVE)])


def evaluate(
    model: Pipeline, X: pd.DataFrame, y: pd.Series, settings: Settings
) -> dict[str, float]:
    """Holdout metrics; ``y`` holds 0/1 labels as data.features_and_target gives them."""
    truth = np.asarray(y).astype(int)
    if len(np.unique(truth)) < 2:
        raise DataError(f"the holdout holds one class of '{settings.data.target}' only")
    proba = positive_proba(model, X)
    predicted = (np.asarray(model.predict(X)) == POSITIVE).astype(int)
    return {
        "roc_auc": float(roc_auc_score(truth, proba)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "f1": float(f1_score(truth, predicted, zero_division=0)),
        "precision": float(precision_score(truth, predicted, zero_division=0)),
        "recall": float(recall_score(truth, predicted, zero_division=0)),
        "log_loss": float(log_loss(truth, proba, labels=[0, 1])),
        "brier": float(brier_score_loss(truth, proba)),
    }
