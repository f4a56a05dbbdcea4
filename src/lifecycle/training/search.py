"""Optional hyperparameter search (model.search): grid or random, with a trial budget.

Each trial is cross-validated on the training split only (the holdout stays untouched) and
logged as a nested MLflow run with its parameters and score; the best parameters win.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, get_scorer, make_scorer, precision_score, recall_score
from sklearn.model_selection import (
    ParameterGrid,
    ParameterSampler,
    StratifiedKFold,
    cross_val_score,
)

from lifecycle.errors import ConfigError
from lifecycle.registry import tracking
from lifecycle.settings import Settings

# model.search.metric -> how scikit-learn scores it ("neg_" scorers: higher is better)
SCORERS = {
    "roc_auc": "roc_auc",
    "accuracy": "accuracy",
    "f1": f1_score,
    "precision": precision_score,
    "recall": recall_score,
    "log_loss": "neg_log_loss",
    "brier": "neg_brier_score",
}


def candidates(settings: Settings) -> list[dict[str, Any]]:
    """The parameter sets to try, checked against the estimator; at most n_trials of them."""
    from lifecycle.training.model import estimator_params

    spec = settings.model.search
    where = f"{settings.source}: model.search"
    if spec.metric not in SCORERS:
        raise ConfigError(f"{where}.metric: '{spec.metric}' is not one of {', '.join(SCORERS)}")
    if not spec.space:
        raise ConfigError(f"{where}.space: empty; list the values to try per hyperparameter")
    for name, values in spec.space.items():
        if not values:
            raise ConfigError(f"{where}.space.{name}: no values to try")
    estimator_params(settings, dict.fromkeys(spec.space), key="model.search.space")
    grid = ParameterGrid(spec.space)
    if spec.kind == "grid":
        if len(grid) > spec.n_trials:
            tracking.progress(
                f"search: the grid has {len(grid)} combinations; n_trials={spec.n_trials} "
                f"tries the first {spec.n_trials}"
            )
        return list(grid)[: spec.n_trials]
    budget = min(spec.n_trials, len(grid))
    return list(ParameterSampler(spec.space, n_iter=budget, random_state=settings.model.seed))


def scorer(settings: Settings) -> Any:
    found = SCORERS[settings.model.search.metric]
    if isinstance(found, str):
        return get_scorer(found)
    return make_scorer(found, zero_division=0)  # labels are 0/1, 1 the positive class


def run(
    settings: Settings, trials: list[dict[str, Any]], X: pd.DataFrame, y: pd.Series
) -> dict[str, Any]:
    """Cross-validate every trial as a nested run of the active run; returns the best params."""
    import mlflow

    from lifecycle.training.model import build_pipeline

    spec = settings.model.search
    sign = -1.0 if SCORERS[spec.metric] in ("neg_log_loss", "neg_brier_score") else 1.0
    folds = StratifiedKFold(n_splits=spec.cv, shuffle=True, random_state=settings.model.seed)
    tracking.progress(
        f"search: {len(trials)} {spec.kind} trials, {spec.cv}-fold cv on {spec.metric}"
    )
    best_score, best, best_number = -np.inf, trials[0], 1
    active = mlflow.active_run()
    if active is None:
        raise RuntimeError("the search runs inside the training run")
    experiment_id = active.info.experiment_id
    for number, params in enumerate(trials, start=1):
        with mlflow.start_run(run_name=f"trial-{number}", nested=True, experiment_id=experiment_id):
            mlflow.set_tags({tracking.STEP_TAG: tracking.TRIAL_STEP, "trial.number": str(number)})
            mlflow.log_params(params)
            scores = cross_val_score(
                build_pipeline(settings, params),
                X,
                y,
                cv=folds,
                scoring=scorer(settings),
                error_score="raise",
            )
            value, spread = sign * float(scores.mean()), float(scores.std())
            mlflow.log_metrics({f"cv_{spec.metric}": value, f"cv_{spec.metric}_std": spread})
        tracking.progress(
            f"  trial {number}/{len(trials)}: {spec.metric} {value:.4f} ± {spread:.4f}  {params}"
        )
        if scores.mean() > best_score:
            best_score, best, best_number = float(scores.mean()), params, number
    summary = {"kind": spec.kind, "trials": len(trials), "metric": spec.metric, "cv": spec.cv}
    mlflow.log_params(tracking.flat_params(summary, "search."))
    mlflow.log_metric(f"best_cv_{spec.metric}", sign * best_score)
    mlflow.set_tag("search.best_trial", str(best_number))
    tracking.progress(f"search: best trial {best_number}: {best}")
    return best
