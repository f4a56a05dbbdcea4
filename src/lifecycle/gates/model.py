"""Model tests: holdout thresholds, a trivial baseline to beat, output invariants, latency and
size budgets, behavioural tests (lifecycle.gates.behaviour) and the deepchecks model
evaluation suite. Every threshold comes from gates.model in params.yaml.
"""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.errors import ConfigError
from lifecycle.gates import behaviour
from lifecycle.gates.contract import Contract
from lifecycle.gates.registry import Context, Gate
from lifecycle.gates.result import GateReport, GateResult
from lifecycle.settings import Settings

NAME = "model"
MAIN_METRIC = "roc_auc"
LOWER_IS_BETTER = frozenset({"log_loss", "brier"})


def run_model_tests(
    model: Any,
    train_df: pd.DataFrame,
    test_df: pd.DataFrame,
    settings: Settings,
    contract: Contract | None = None,
    out_dir: Path | None = None,
) -> GateReport:
    """Every model test on the holdout ``test_df``; ``train_df`` fits the baseline."""
    from lifecycle.data.dataset import features_and_target
    from lifecycle.training.model import model_input

    gate = settings.gates.model
    if gate.mode == "off":
        return GateReport(NAME, gate.mode)
    X_train, y_train = features_and_target(train_df, settings)
    X_test, y_test = features_and_target(test_df, settings)
    X_train, X_test = model_input(X_train, settings), model_input(X_test, settings)
    checked = invariants(model, X_test)
    if not all(r.passed for r in checked):
        note = "the model's outputs are not valid probabilities: the other model tests did not run"
        return GateReport(NAME, gate.mode, tuple(checked), note=note)
    results = [
        *checked,
        *thresholds(model, X_test, y_test, settings),
        baseline(model, (X_train, y_train), (X_test, y_test), settings),
        latency(model, X_test, settings),
        size(model, settings),
        *behaviour.invariance(model, X_test, settings),
        *behaviour.directional(model, X_test, settings),
        *behaviour.minimum_functionality(model, contract, settings),
        *evaluation_suite(model, train_df, test_df, settings, out_dir),
    ]
    note = f"holdout of {len(X_test)} rows (data.split); baseline fitted on {len(X_train)} rows"
    return GateReport(NAME, gate.mode, tuple(results), note=note)


def metric_passes(metric: str, value: float, threshold: float) -> bool:
    return value <= threshold if metric in LOWER_IS_BETTER else value >= threshold


def thresholds(model: Any, X: pd.DataFrame, y: pd.Series, settings: Settings) -> list[GateResult]:
    """Each metric in gates.model.thresholds against its minimum (maximum for losses)."""
    from lifecycle.training.model import METRICS, evaluate

    unknown = [m for m in settings.gates.model.thresholds if m not in METRICS]
    if unknown:
        raise ConfigError(
            f"{settings.source}: gates.model.thresholds: unknown metric(s) {', '.join(unknown)}; "
            f"choose from {', '.join(METRICS)}"
        )
    scores = evaluate(model, X, y, settings)
    results = []
    for metric, limit in settings.gates.model.thresholds.items():
        sign = "≤" if metric in LOWER_IS_BETTER else "≥"
        passed = metric_passes(metric, scores[metric], limit)
        results.append(
            GateResult(
                f"holdout {metric}",
                metric,
                scores[metric],
                f"{sign} {limit}",
                passed,
                {"message": f"{metric} {scores[metric]:.4f} on the holdout"},
            )
        )
    return results


def baseline(
    model: Any,
    train: tuple[pd.DataFrame, pd.Series],
    test: tuple[pd.DataFrame, pd.Series],
    settings: Settings,
) -> GateResult:
    """The model must beat a DummyClassifier (class prior) by gates.model.baseline_margin."""
    from sklearn.dummy import DummyClassifier

    from lifecycle.training.model import evaluate

    dummy = DummyClassifier(strategy="prior").fit(*train)
    ours = evaluate(model, *test, settings)[MAIN_METRIC]
    floor = evaluate(dummy, *test, settings)[MAIN_METRIC]
    margin = settings.gates.model.baseline_margin
    message = f"model {ours:.4f} vs baseline (class prior) {floor:.4f}: margin {ours - floor:+.4f}"
    return GateResult(
        f"beats the baseline by {margin}",
        MAIN_METRIC,
        ours,
        round(floor + margin, 6),
        ours >= floor + margin,
        {"baseline": floor, "margin": margin, "message": message},
    )


def invariants(model: Any, X: pd.DataFrame) -> list[GateResult]:
    """Probabilities are finite, within [0, 1], sum to 1 per row; one row in, one row out."""
    proba = np.asarray(model.predict_proba(X), dtype=float)
    expected = (len(X), len(model.classes_))
    finite = bool(np.isfinite(proba).all())
    low, high = (float(proba.min()), float(proba.max())) if proba.size else (0.0, 0.0)
    worst_sum = float(np.abs(proba.sum(axis=1) - 1).max()) if proba.size else 0.0
    labels = set(np.unique(model.predict(X.head(1000)))) <= set(model.classes_)
    return [
        GateResult(
            "output shape", "shape", list(proba.shape), list(expected), proba.shape == expected
        ),
        GateResult(
            "probabilities within [0, 1]",
            "min, max",
            [low, high],
            [0, 1],
            finite and low >= 0 and high <= 1,
        ),
        GateResult(
            "probabilities sum to 1",
            "largest |sum - 1|",
            worst_sum,
            1e-6,
            finite and worst_sum <= 1e-6,
        ),
        GateResult(
            "predictions are known classes",
            "labels",
            sorted(map(str, model.classes_)),
            "classes_",
            labels,
        ),
    ]


def latency(model: Any, X: pd.DataFrame, settings: Settings) -> GateResult:
    """Milliseconds per row scoring the holdout in one batch (best of three); one-row calls in
    the details."""
    budget = settings.gates.model.max_latency_ms_per_row
    model.predict_proba(X.head(10))  # warm-up
    batch = min(_seconds(model.predict_proba, X) for _ in range(3)) * 1000 / max(len(X), 1)
    single = float(np.median([_seconds(model.predict_proba, X.iloc[[i]]) for i in range(20)]))
    details = {"one_row_call_ms": round(single * 1000, 3), "rows": len(X)}
    return GateResult("latency per row", "ms per row", batch, budget, batch <= budget, details)


def _seconds(function: Any, *args: Any) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def size(model: Any, settings: Settings) -> GateResult:
    """The pickled model's size against gates.model.max_size_mb."""
    megabytes = len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20
    budget = settings.gates.model.max_size_mb
    return GateResult("model size", "MB pickled", megabytes, budget, megabytes <= budget)


def evaluation_suite(
    model: Any,
    train_df: pd.DataFrame,
    test_df: pd.DataFrame,
    settings: Settings,
    out_dir: Path | None,
) -> list[GateResult]:
    """deepchecks model evaluation: train-test performance (a condition), ROC, confusion
    matrix and calibration (for the HTML report)."""
    from deepchecks.tabular import checks

    from lifecycle.gates.integrity import dataset, predictions, run_suite

    limit = settings.gates.model.max_train_test_degradation
    performance = checks.TrainTestPerformance(scorers=[MAIN_METRIC])
    performance.add_condition_train_test_relative_degradation_less_than(limit)
    chosen = [
        (performance, _degradation, limit),
        (checks.RocReport(), None, None),
        (checks.ConfusionMatrixReport(), None, None),
        (checks.CalibrationScore(), None, None),
    ]
    # distinct row labels: deepchecks matches precomputed predictions to rows by index
    test_df = test_df.set_axis(pd.RangeIndex(len(train_df), len(train_df) + len(test_df)))
    train, test = dataset(train_df, settings), dataset(test_df, settings)
    features = settings.data.features.all
    static = predictions(
        model.classes_,
        train=model.predict_proba(train.data[features]),
        test=model.predict_proba(test.data[features]),
    )
    return run_suite(
        "Model evaluation",
        chosen,
        train_dataset=train,
        test_dataset=test,
        predictions=static,
        html=out_dir / f"{NAME}.html" if out_dir else None,
    )


def _degradation(value: pd.DataFrame) -> float | None:
    """Relative drop of the main metric from train to test."""
    rows = value[value["Metric"] == MAIN_METRIC].groupby("Dataset")["Value"].mean()
    if "Train" not in rows or "Test" not in rows or not rows["Train"]:
        return None
    return round(float((rows["Train"] - rows["Test"]) / rows["Train"]), 6)


def check(context: Context) -> GateReport:
    from lifecycle.gates.contract import load_contract

    contract = load_contract(context.settings)
    return run_model_tests(
        context.model, context.train, context.test, context.settings, contract, context.reports
    )


GATE = Gate(NAME, "model", "thresholds, baseline, behaviour, latency, size, deepchecks", check)
