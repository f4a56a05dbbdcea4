"""Behavioural model tests: invariance, direction, minimum functionality.

- invariance: shuffling a feature that should not matter (gates.model.invariant_features)
  moves P(positive) by at most gates.model.invariance_tolerance on average;
- direction: raising a feature by one standard deviation moves the mean P(positive) the way
  gates.model.directional says;
- minimum functionality: the data contract's hand-picked examples land on the right side of 0.5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lifecycle.gates.contract import Contract
from lifecycle.gates.result import GateResult
from lifecycle.settings import Settings


def _proba(model: Any, X: pd.DataFrame, settings: Settings) -> NDArray[Any]:
    from lifecycle.training.model import positive_proba

    return np.asarray(positive_proba(model, X), dtype=float)


def invariance(model: Any, X: pd.DataFrame, settings: Settings) -> list[GateResult]:
    gate = settings.gates.model
    if not gate.invariant_features:
        return []
    rng = np.random.default_rng(settings.model.seed)
    before = _proba(model, X, settings)
    results = []
    for feature in gate.invariant_features:
        shuffled = X.copy()
        shuffled[feature] = rng.permutation(X[feature].to_numpy())
        after = _proba(model, shuffled, settings)
        change = float(np.mean(np.abs(after - before)))
        flipped = float(np.mean((after >= 0.5) != (before >= 0.5)))
        message = f"shuffling {feature} moves P(positive) by {change:.4f} on average"
        results.append(
            GateResult(
                f"invariance to {feature}",
                "mean |ΔP(positive)|",
                change,
                gate.invariance_tolerance,
                change <= gate.invariance_tolerance,
                {"flipped_share": flipped, "message": message},
            )
        )
    return results


def directional(model: Any, X: pd.DataFrame, settings: Settings) -> list[GateResult]:
    before = float(_proba(model, X, settings).mean()) if settings.gates.model.directional else 0.0
    results = []
    for feature, direction in settings.gates.model.directional.items():
        if feature not in settings.data.features.numeric:
            raise _not_numeric(settings, feature)
        step = float(np.nanstd(X[feature].to_numpy(dtype=float))) or 1.0
        raised = X.copy()
        raised[feature] = X[feature] + step
        change = float(_proba(model, raised, settings).mean()) - before
        passed = change > 0 if direction == "increasing" else change < 0
        message = (
            f"raising {feature} by {step:.4g} (one std) moves mean P(positive) by {change:+.4f}"
        )
        results.append(
            GateResult(
                f"{feature} is {direction}",
                "Δ mean P(positive)",
                change,
                "> 0" if direction == "increasing" else "< 0",
                passed,
                {"message": message},
            )
        )
    return results


def _not_numeric(settings: Settings, feature: str) -> Exception:
    from lifecycle.errors import ConfigError

    return ConfigError(
        f"{settings.source}: gates.model.directional: '{feature}' is not a numeric feature "
        "(data.features.numeric); a direction needs a feature that can be raised"
    )


def minimum_functionality(
    model: Any, contract: Contract | None, settings: Settings
) -> list[GateResult]:
    """The contract's examples: P(positive) > 0.5 for "positive", < 0.5 for "negative"."""
    if contract is None or not contract.examples:
        return []
    from lifecycle.training.model import model_input

    features = settings.data.features.all
    rows = pd.DataFrame([{f: e.row.get(f) for f in features} for e in contract.examples])
    proba = _proba(model, model_input(rows, settings), settings)
    results = []
    for example, p in zip(contract.examples, proba, strict=True):
        positive = example.expect == "positive"
        passed = bool(p > 0.5) if positive else bool(p < 0.5)
        results.append(
            GateResult(
                example.name,
                "P(positive)",
                float(p),
                "> 0.5" if positive else "< 0.5",
                passed,
                {"message": f"expected {example.expect}, P(positive) = {p:.3f}"},
            )
        )
    return results
