"""Fitting: the model trained on the train split, evaluated on the holdout, logged to MLflow."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from lifecycle.registry import tracking
from lifecycle.settings import Settings
from lifecycle.training import search
from lifecycle.training.model import (
    MODEL_NAME,
    Labels,
    build_pipeline,
    estimator_params,
    evaluate,
    model_input,
    target_labels,
)


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
    estimator: str = ""
    labels: Labels = field(default_factory=Labels)

    def to_markdown(self) -> str:
        """The run in full: data, labels, holdout metrics, hyperparameters."""
        metrics = "\n".join(f"| {name} | {value:.4f} |" for name, value in self.metrics.items())
        params = "\n".join(f"| {name} | `{value!r}` |" for name, value in self.params.items())
        labels = self.labels
        return "\n".join(
            [
                f"### Training: run `{self.run_id}`",
                "",
                f"{self.estimator}: {self.train_rows} training rows, {self.test_rows} holdout "
                f"rows, {self.seconds:.1f} s. Labels: `{labels.positive!r}` is the positive "
                f"class (1), `{labels.negative!r}` the other (0).",
                "",
                "| metric | holdout |",
                "|---|---:|",
                metrics,
                "",
                "| hyperparameter | value |",
                "|---|---|",
                params,
            ]
        )


@dataclass(frozen=True)
class TrainingData:
    """The split training uses, as the model takes it: features and 0/1 labels, and the
    target's own two values that 0 and 1 stand for."""

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    labels: Labels


def training_data(settings: Settings) -> TrainingData:
    from lifecycle.data.dataset import features_and_target, load_dataset, split

    frame = load_dataset(settings)
    labels = target_labels(frame[settings.data.target], settings.data.positive_label)
    train_df, test_df = split(frame, settings)
    X_train, y_train = features_and_target(train_df, settings)
    X_test, y_test = features_and_target(test_df, settings)
    return TrainingData(
        model_input(X_train, settings), y_train, model_input(X_test, settings), y_test, labels
    )


def train(settings: Settings) -> TrainResult:
    """Fit on the train split, evaluate on the holdout, log everything to a new MLflow run."""
    import mlflow

    started = time.perf_counter()
    data = training_data(settings)
    X_train, y_train, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
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
        info = log_model(model, X_train, settings, data.labels)
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
        estimator=settings.model.estimator.rpartition(".")[2],
        labels=data.labels,
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


def log_model(model: Pipeline, X_train: pd.DataFrame, settings: Settings, labels: Labels) -> Any:
    """Log the fitted pipeline with its signature, an input example and, in its metadata, the
    target's two values that its 0/1 classes stand for (-> ModelInfo)."""
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
            metadata=labels.metadata(),
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
