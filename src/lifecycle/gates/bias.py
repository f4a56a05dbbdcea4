"""Bias checks on the holdout, per protected attribute (data.protected_attributes):

- fairlearn's demographic parity ratio (selection rates alike across groups) and equalized odds
  difference (error rates alike), each against its threshold (gates.bias, per attribute);
- a per-group table (count, selection rate, TPR, FPR, ROC AUC) from a fairlearn MetricFrame;
- deepchecks PerformanceBias: no group's ROC AUC below the whole holdout's by more than
  gates.bias.max_subgroup_degradation.

Protected attributes are not model features: the model never sees them, the checks do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lifecycle.gates.registry import Context, Gate
from lifecycle.gates.result import GateReport, GateResult
from lifecycle.settings import Settings

NAME = "bias"
MAIN_METRIC = "roc_auc"
NUMERIC_BINS = 4


def run_bias(
    model: Any, test_df: pd.DataFrame, settings: Settings, out_dir: Path | None = None
) -> GateReport:
    gate = settings.gates.bias
    if gate.mode == "off":
        return GateReport(NAME, gate.mode)
    attributes = settings.data.protected_attributes
    if not attributes:
        note = "no data.protected_attributes in params.yaml: nothing to check"
        return GateReport(NAME, gate.mode, note=note)
    from lifecycle.data.dataset import features_and_target
    from lifecycle.training.model import model_input, positive_proba

    X, y = features_and_target(test_df, settings)
    proba = positive_proba(model, model_input(X, settings))
    y_true, y_pred = np.asarray(y, dtype=int), (proba >= 0.5).astype(int)
    results = []
    for attribute in attributes:
        groups = _groups(test_df[attribute])
        results += fairness(attribute, groups, y_true, y_pred, proba, settings)
    results += performance_bias(test_df, proba, settings, out_dir)
    note = f"holdout of {len(test_df)} rows; positive = P(positive) ≥ 0.5"
    return GateReport(NAME, gate.mode, tuple(results), note=note)


def _groups(column: pd.Series) -> pd.Series:
    """Group labels: categories as they are, numbers in quantile bins, missing as 'missing'."""
    if pd.api.types.is_numeric_dtype(column) and column.nunique() > NUMERIC_BINS * 2:
        column = pd.qcut(column, NUMERIC_BINS, duplicates="drop").astype(str)
    return column.astype(object).where(column.notna(), "missing").astype(str)


def fairness(
    attribute: str,
    groups: pd.Series,
    y_true: NDArray[Any],
    y_pred: NDArray[Any],
    proba: NDArray[Any],
    settings: Settings,
) -> list[GateResult]:
    """Demographic parity ratio and equalized odds difference, with the per-group table."""
    from fairlearn.metrics import demographic_parity_ratio, equalized_odds_difference

    limits = settings.gates.bias.threshold_for(attribute)
    table = group_table(groups, y_true, y_pred, proba)
    ratio = float(demographic_parity_ratio(y_true, y_pred, sensitive_features=groups))
    gap = float(equalized_odds_difference(y_true, y_pred, sensitive_features=groups))
    rates = {g: _rounded(v["selection_rate"]) for g, v in table.items()}
    details = {"attribute": attribute, "groups": table}
    return [
        GateResult(
            f"{attribute}: demographic parity",
            "demographic_parity_ratio",
            ratio,
            f"≥ {limits.demographic_parity_ratio_min}",
            ratio >= limits.demographic_parity_ratio_min,
            {**details, "message": f"lowest / highest selection rate; rates {rates}"},
        ),
        GateResult(
            f"{attribute}: equalized odds",
            "equalized_odds_difference",
            gap,
            f"≤ {limits.equalized_odds_difference_max}",
            gap <= limits.equalized_odds_difference_max,
            {"attribute": attribute, "message": _odds_message(table)},
        ),
    ]


def group_table(
    groups: pd.Series, y_true: NDArray[Any], y_pred: NDArray[Any], proba: NDArray[Any]
) -> dict[str, dict[str, float | None]]:
    """group -> count, selection_rate, tpr, fpr, roc_auc (fairlearn MetricFrame)."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    labels = {
        "count": count,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
    }
    by_label = MetricFrame(metrics=labels, y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    by_score = MetricFrame(
        metrics={MAIN_METRIC: _auc}, y_true=y_true, y_pred=proba, sensitive_features=groups
    )
    table = by_label.by_group.join(by_score.by_group)
    return {
        str(group): {k: int(v) if k == "count" else _number(v) for k, v in row.items()}
        for group, row in table.iterrows()
    }


def _auc(y_true: NDArray[Any], scores: NDArray[Any]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, scores)) if len(np.unique(y_true)) == 2 else float("nan")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _number(value: Any) -> float | None:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and np.isnan(value):
        return None
    return round(value, 4) if isinstance(value, float) else value


def _odds_message(table: dict[str, dict[str, Any]]) -> str:
    shown = "; ".join(f"{g}: TPR {v['tpr']}, FPR {v['fpr']}" for g, v in table.items())
    return f"largest gap in TPR or FPR between groups ({shown})"


def performance_bias(
    test_df: pd.DataFrame, proba: NDArray[Any], settings: Settings, out_dir: Path | None
) -> list[GateResult]:
    """deepchecks PerformanceBias on every protected attribute, as one suite; ``proba`` is
    P(positive) on ``test_df``."""
    from deepchecks.tabular.checks.model_evaluation import PerformanceBias

    from lifecycle.gates.integrity import dataset, predictions, run_suite

    drop = settings.gates.bias.max_subgroup_degradation
    attributes = settings.data.protected_attributes
    extra = [a for a in attributes if a not in settings.data.features.all]
    frame = test_df.assign(**{a: _groups(test_df[a]) for a in extra})
    chosen = []
    for attribute in attributes:
        check = PerformanceBias(attribute, scorer=MAIN_METRIC)
        check.add_condition_bounded_performance_difference(-drop)
        chosen.append((check, _largest_drop, -drop))
    both = np.column_stack([1 - proba, proba])  # the model is trained on 0/1 labels
    return run_suite(
        "Performance bias",
        chosen,
        train_dataset=dataset(frame, settings, extra=extra),
        predictions=predictions([0, 1], train=both),
        html=out_dir / f"{NAME}.html" if out_dir else None,
    )


def _largest_drop(value: dict[str, pd.DataFrame]) -> dict[str, float] | None:
    """The group whose score falls furthest below the baseline, e.g. {"female": -0.03}."""
    scores = value["scores_df"]
    if scores.empty:
        return None
    worst = scores.loc[(scores["_score"] - scores["_baseline"]).idxmin()]
    column = next(c for c in scores.columns if not str(c).startswith("_"))
    return {str(worst[column]): round(float(worst["_score"] - worst["_baseline"]), 4)}


def check(context: Context) -> GateReport:
    return run_bias(context.model, context.test, context.settings, context.reports)


GATE = Gate(NAME, "model", "fairness across protected attributes (fairlearn, deepchecks)", check)
