"""Drift of the current window against the reference, as one gate report (``drift``).

Checks, each a row of the report, thresholds from ``gates.drift`` in params.yaml:

- **feature drift**: the share of features that drifted (``stats.numeric_drift`` and
  ``stats.categorical_drift``) against ``max_drifted_share``;
- **multivariate drift**: a domain classifier's ROC AUC against ``domain_auc_max``;
- **prediction drift**: PSI of P(positive) in the window (logged, or scored now) against the
  model's P(positive) on the reference, when the model is known;
- **performance decay**: with delayed labels, the drop of roc_auc below the registered value;
- **missing values** (data quality, not drift): features missing more often than
  ``missing_share_max`` (and than in the reference). They are left out of the domain classifier.

A window smaller than ``min_rows`` is "not enough data": nothing is compared, nothing alarms.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.gates.result import GateReport, GateResult
from lifecycle.monitoring import scoring, stats
from lifecycle.monitoring.decay import performance
from lifecycle.monitoring.reference import Reference
from lifecycle.monitoring.scoring import ModelInfo, probabilities
from lifecycle.monitoring.window import Window
from lifecycle.settings import Settings

GATE = "drift"
PREDICTION_SAMPLE = 50_000  # rows per side scored for prediction drift (PSI noise ~ 4e-4)


@dataclass(frozen=True)
class DriftOutcome:
    report: GateReport
    status: str  # ok | drift | quality | not-enough-data | off
    features: tuple[stats.FeatureDrift, ...] = ()
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def drift(self) -> bool:
        return self.status == "drift"

    @property
    def drifted(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    @property
    def broken(self) -> list[str]:
        return [f.feature for f in self.features if f.missing_broken]


def check_drift(
    reference: Reference | None,
    window: Window,
    settings: Settings,
    model: ModelInfo | None = None,
    labels: pd.DataFrame | None = None,
) -> DriftOutcome:
    gate = settings.gates.drift
    if gate.mode == "off":
        return DriftOutcome(GateReport(GATE, "off"), "off")
    rows = len(window.frame)
    if rows < gate.min_rows:
        note = (
            f"Not enough data: the window holds {rows} row(s), fewer than gates.drift.min_rows "
            f"({gate.min_rows}). Nothing was compared; this is not a drift alarm."
        )
        return DriftOutcome(GateReport(GATE, gate.mode, note=note), "not-enough-data")
    if reference is None:
        raise ValueError("a window big enough to judge needs a reference")
    timings: dict[str, float] = {}
    notes: list[str] = []
    current = _with_features(window.frame, settings, notes)
    features = _timed(timings, "features", feature_drift, reference.frame, current, settings)
    results = [drifted_share(features, settings), missing_values(features, settings)]
    kept = [f.feature for f in features if not f.missing_broken]
    if kept:
        multi = (reference.frame, current, kept, settings)
        results.append(_timed(timings, "multivariate", multivariate, *multi))
    else:
        notes.append("Multivariate drift skipped: every feature's quality is broken.")
    results += _model_checks(model, reference.frame, current, labels, settings, timings, notes)
    report = GateReport(GATE, gate.mode, tuple(results))
    drift = any(not r.passed for r in results if r.name != MISSING_CHECK)
    status = "drift" if drift else ("quality" if not report.passed else "ok")
    return DriftOutcome(report, status, tuple(features), tuple(notes), timings)


def _model_checks(
    model: ModelInfo | None,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    labels: pd.DataFrame | None,
    settings: Settings,
    timings: dict[str, float],
    notes: list[str],
) -> list[GateResult]:
    """Prediction drift (needs the model) and performance decay (needs labels)."""
    results = []
    if model is not None:
        checked = (model, reference, current, settings)
        results.append(_timed(timings, "predictions", prediction_drift, *checked))
    if labels is not None:
        decay = _timed(timings, "performance", performance, model, current, labels, settings)
        if isinstance(decay, str):
            notes.append(decay)
        else:
            results.append(decay)
    return results


def _timed(timings: dict[str, float], name: str, function: Callable[..., Any], *args: Any) -> Any:
    started = time.perf_counter()
    try:
        return function(*args)
    finally:
        timings[name] = round(time.perf_counter() - started, 3)


def _with_features(frame: pd.DataFrame, settings: Settings, notes: list[str]) -> pd.DataFrame:
    """The window with every feature column; one it lacks is all missing (and said so)."""
    absent = [c for c in settings.data.features.all if c not in frame.columns]
    if not absent:
        return frame
    notes.append(f"Column(s) absent from the window, counted as missing: {', '.join(absent)}.")
    return frame.assign(**{column: np.nan for column in absent})


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, settings: Settings
) -> list[stats.FeatureDrift]:
    gate, features = settings.gates.drift, settings.data.features
    found = [
        stats.numeric_drift(c, reference[c], current[c], gate.psi_max, gate.p_value_min)
        for c in features.numeric
    ]
    found += [
        stats.categorical_drift(c, reference[c], current[c], gate.psi_max, gate.p_value_min)
        for c in features.categorical
    ]
    return [
        dataclasses.replace(
            f,
            missing_broken=bool(
                f.missing_current > gate.missing_share_max
                and f.missing_current > f.missing_reference
            ),
        )
        for f in found
    ]


def drifted_share(features: list[stats.FeatureDrift], settings: Settings) -> GateResult:
    limit = settings.gates.drift.max_drifted_share
    drifted = [f.feature for f in features if f.drifted]
    share = len(drifted) / len(features)
    message = f"{len(drifted)} of {len(features)} features drifted"
    message += f": {', '.join(drifted)}" if drifted else ""
    return GateResult(
        "feature drift",
        "drifted_share",
        share,
        f"≤ {limit}",
        share <= limit,
        {"message": message, "drifted": drifted},
    )


MISSING_CHECK = "missing values"


def missing_values(features: list[stats.FeatureDrift], settings: Settings) -> GateResult:
    limit = settings.gates.drift.missing_share_max
    broken = {f.feature: round(f.missing_current, 4) for f in features if f.missing_broken}
    message = "data quality, not drift: " + (
        ", ".join(f"{name} {share:.0%} missing" for name, share in broken.items())
        if broken
        else "no feature is missing more often than the threshold"
    )
    return GateResult(
        MISSING_CHECK,
        "features_over_missing_share",
        len(broken),
        f"0 features > {limit}",
        not broken,
        {"message": message, "broken": broken},
    )


def multivariate(
    reference: pd.DataFrame, current: pd.DataFrame, kept: list[str], settings: Settings
) -> GateResult:
    limit = settings.gates.drift.domain_auc_max
    numeric = [c for c in settings.data.features.numeric if c in kept]
    categorical = [c for c in settings.data.features.categorical if c in kept]
    auc = stats.domain_auc(reference, current, numeric, categorical)
    rows = min(len(reference), len(current), stats.DOMAIN_SAMPLE)
    message = f"classifier telling reference from window, {rows} rows each (0.5: cannot)"
    return GateResult(
        "multivariate drift",
        "domain_auc",
        auc,
        f"≤ {limit}",
        auc <= limit,
        {"message": message, "rows_per_side": rows},
    )


def prediction_drift(
    model: ModelInfo, reference: pd.DataFrame, current: pd.DataFrame, settings: Settings
) -> GateResult:
    limit = settings.gates.drift.prediction_psi_max
    expected = probabilities(model.model, _sample(reference), settings)
    actual, source = scoring.row_probabilities(model, _sample(current), settings)
    if actual is None:  # scored above when the log lacks probabilities
        raise ValueError("no probabilities for the current window")
    psi = stats.numeric_psi(expected, actual)
    message = f"P(positive) {source} vs model v{model.version} on the reference"
    return GateResult(
        "prediction drift",
        "psi",
        psi,
        f"≤ {limit}",
        psi <= limit,
        {"message": message, "model_version": model.version},
    )


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= PREDICTION_SAMPLE:
        return frame
    return frame.sample(PREDICTION_SAMPLE, random_state=0)
