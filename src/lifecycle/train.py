"""Training: one scikit-learn Pipeline (preprocessing inside the model), tracked in MLflow.

Because imputation, scaling and encoding live inside the logged model, serving feeds it the
same raw columns training saw and the two can never diverge. Same data, settings and seed give
the same model and identical predictions.
"""

from __future__ import annotations

import difflib
import importlib
import re
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
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

from lifecycle import search, tracking
from lifecycle.errors import ConfigError, DataError
from lifecycle.settings import Settings

METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "brier")
MODEL_NAME = "model"  # the logged model's name inside its run
MISSING_CATEGORY = "missing"
POSITIVE = 1  # data.features_and_target maps data.positive_label to 1, the rest to 0


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    experiment_id: str
    model_uri: str
    metrics: dict[str, float]
    params: dict[str, Any]
    train_rows: int
    test_rows: int
    seconds: float


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


def positive_proba(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """P(positive) for each row; the model is trained on 0/1 labels, 1 being data.positive_label."""
    return model.predict_proba(X)[:, list(model.classes_).index(POSITIVE)]


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


def train_test_data(
    settings: Settings,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """(X_train, y_train, X_test, y_test): the split training uses, as the model takes it."""
    from lifecycle.data import features_and_target, load_dataset, split

    train_df, test_df = split(load_dataset(settings), settings)
    X_train, y_train = features_and_target(train_df, settings)
    X_test, y_test = features_and_target(test_df, settings)
    return model_input(X_train, settings), y_train, model_input(X_test, settings), y_test


def train(settings: Settings) -> TrainResult:
    """Fit on the train split, evaluate on the holdout, log everything to a new MLflow run."""
    import mlflow

    started = time.perf_counter()
    X_train, y_train, X_test, y_test = train_test_data(settings)
    build_pipeline(settings)  # configuration errors surface before anything is recorded
    trials = search.candidates(settings) if settings.model.search.enabled else []
    tags = {**tracking.run_metadata(settings), tracking.STEP_TAG: tracking.TRAIN_STEP}
    with mlflow.start_run(experiment_id=tracking.experiment(settings), tags=tags) as run:
        best = search.run(settings, trials, X_train, y_train) if trials else {}
        model = _fit(settings, best, X_train, y_train)
        tracking.progress(f"evaluating on {len(X_test)} holdout rows…")
        metrics = evaluate(model, X_test, y_test, settings)
        params = estimator_params(settings, best)
        mlflow.log_params(_run_params(settings, params, len(X_train), len(X_test)))
        mlflow.log_metrics(metrics)
        tracking.progress("logging the model…")
        info = log_model(model, X_train, settings)
        mlflow.set_tag("model.uri", info.model_uri)
        seconds = time.perf_counter() - started
        mlflow.log_metric("duration_seconds", seconds)
    return TrainResult(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        model_uri=info.model_uri,
        metrics=metrics,
        params=params,
        train_rows=len(X_train),
        test_rows=len(X_test),
        seconds=seconds,
    )


def _fit(settings: Settings, best: dict[str, Any], X: pd.DataFrame, y: pd.Series) -> Pipeline:
    import mlflow

    model = build_pipeline(settings, best)
    estimator = settings.model.estimator.rpartition(".")[2]
    tracking.progress(f"training {estimator} on {len(X)} rows…")
    started = time.perf_counter()
    model.fit(X, y)
    mlflow.log_metric("fit_seconds", time.perf_counter() - started)
    return model


def _run_params(
    settings: Settings, params: dict[str, Any], train_rows: int, test_rows: int
) -> dict[str, str]:
    data = settings.data
    return tracking.flat_params(
        {
            "estimator": settings.model.estimator,
            **params,
            "model.seed": settings.model.seed,
            "data": {"target": data.target, "train_rows": train_rows, "test_rows": test_rows},
            "split": data.split.model_dump(),
            "features": data.features.model_dump(),
        }
    )


def log_model(model: Pipeline, X_train: pd.DataFrame, settings: Settings) -> Any:
    """Log the fitted pipeline with its signature and an input example (-> ModelInfo)."""
    import logging

    import mlflow
    import skops.io

    # skops refuses types outside its allow-list on load; this model was fitted just now, here.
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    quiet = logging.getLogger("mlflow.utils.environment")  # "no pip" is moot: uv installs
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return mlflow.sklearn.log_model(
            model,
            name=MODEL_NAME,
            signature=signature(model, X_train),
            input_example=X_train.head(5),
            serialization_format="skops",
            skops_trusted_types=trusted,
            pip_requirements=requirements(settings),
        )
    finally:
        quiet.setLevel(level)


def signature(model: Pipeline, X_train: pd.DataFrame) -> Any:
    """Column types from the model input (numeric columns are doubles, so an integer column
    with a missing value still fits); a column is optional (may be null) exactly when the
    training data holds nulls in it."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema

    sample = X_train.head(100)
    inferred = infer_signature(sample, model.predict(sample))
    nullable = X_train.isna().any()
    inputs = Schema(
        [ColSpec(c.type, c.name, required=not nullable[c.name]) for c in inferred.inputs.inputs]
    )
    return ModelSignature(inputs=inputs, outputs=inferred.outputs)


def requirements(settings: Settings) -> list[str]:
    """Pinned packages the model needs, from this environment (faster than MLflow's inference)."""
    names = {"scikit-learn", "skops", "numpy", "pandas", "scipy"}
    top = settings.model.estimator.split(".", 1)[0]
    if top != "sklearn":
        names.update(metadata.packages_distributions().get(top, []))
    return sorted(f"{name}=={metadata.version(name)}" for name in names)
