"""The quality gate: the challenger (the model just trained) against the champion (the version
the registry alias gates.quality.champion_alias points at), both scored on the same holdout.

Per metric in gates.quality.max_regression, the challenger may fall at most that far below
the champion (rise above it, for losses). With no champion yet (the first run), the challenger
passes by default and the report says so.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lifecycle.errors import ConfigError, DataError, RegistryError
from lifecycle.gates.registry import Context, Gate
from lifecycle.gates.result import GateReport, GateResult
from lifecycle.settings import Settings

NAME = "quality"
LOWER_IS_BETTER = frozenset({"log_loss", "brier"})


def find_champion(settings: Settings) -> tuple[Any, str] | None:
    """(model, version) under the champion alias, or None when no version holds it."""
    from lifecycle.registry import models

    alias = settings.gates.quality.champion_alias
    try:
        version = models.resolve(settings, alias).version
    except RegistryError:
        return None
    return models.load_model(settings, version), str(version)


def run_quality(
    challenger: Any,
    test_df: pd.DataFrame,
    settings: Settings,
    champion: tuple[Any, str] | None,
) -> GateReport:
    """Compare on ``test_df``; ``champion`` is (model, version) or None."""
    from lifecycle.data.dataset import features_and_target
    from lifecycle.training.model import METRICS, evaluate, model_input

    gate = settings.gates.quality
    if gate.mode == "off":
        return GateReport(NAME, gate.mode)
    unknown = [m for m in gate.max_regression if m not in METRICS]
    if unknown:
        raise ConfigError(
            f"{settings.source}: gates.quality.max_regression: unknown metric(s) "
            f"{', '.join(unknown)}; choose from {', '.join(METRICS)}"
        )
    X, y = features_and_target(test_df, settings)
    X = model_input(X, settings)
    ours = evaluate(challenger, X, y, settings)
    if champion is None:
        return _first_run(ours, settings)
    model, version = champion
    try:
        theirs = evaluate(model, X, y, settings)
    except (KeyError, ValueError, DataError) as exc:
        return _unscorable(version, exc, settings)
    results = [
        _compare(m, ours[m], theirs[m], limit, version) for m, limit in gate.max_regression.items()
    ]
    alias = gate.champion_alias
    note = f"champion: version {version} (alias '{alias}'), same holdout of {len(X)} rows"
    return GateReport(NAME, gate.mode, tuple(results), note=note)


def _compare(metric: str, ours: float, theirs: float, limit: float, version: str) -> GateResult:
    lower = metric in LOWER_IS_BETTER
    regression = (ours - theirs) if lower else (theirs - ours)
    floor = theirs + limit if lower else theirs - limit
    verb = "rises" if lower else "falls"
    message = (
        f"challenger {ours:.4f} vs champion v{version} {theirs:.4f}: {metric} {verb} by "
        f"{max(regression, 0):.4f} (allowed {limit})"
    )
    details = {
        "champion": theirs,
        "champion_version": version,
        "max_regression": limit,
        "change": ours - theirs,
        "message": message,
    }
    sign = "≤" if lower else "≥"
    return GateResult(
        f"{metric} vs champion", metric, ours, f"{sign} {floor:.4f}", regression <= limit, details
    )


def _first_run(ours: dict[str, float], settings: Settings) -> GateReport:
    gate = settings.gates.quality
    note = (
        f"no champion registered under alias '{gate.champion_alias}': the challenger passes by "
        "default"
    )
    results = tuple(
        GateResult(
            f"{metric} vs champion",
            metric,
            ours[metric],
            None,
            True,
            {"champion": None, "max_regression": limit, "note": note, "message": note},
        )
        for metric, limit in gate.max_regression.items()
    )
    return GateReport(NAME, gate.mode, results, note=note)


def _unscorable(version: str, exc: Exception, settings: Settings) -> GateReport:
    gate = settings.gates.quality
    message = (
        f"the champion (version {version}, alias '{gate.champion_alias}') cannot score this "
        f"holdout ({exc}); if the features changed on purpose, set gates.quality.mode to warn "
        "for this run"
    )
    result = GateResult(
        "champion scores the holdout",
        "scored",
        False,
        True,
        False,
        {"champion_version": version, "message": message},
    )
    return GateReport(NAME, gate.mode, (result,))


def check(context: Context) -> GateReport:
    champion = find_champion(context.settings)
    return run_quality(context.model, context.test, context.settings, champion)


GATE = Gate(NAME, "model", "the challenger against the champion on the same holdout", check)
