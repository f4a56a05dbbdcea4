"""Performance decay: with delayed labels, the model's metric on the window vs the registered one.

Labels join the window on the data's id column (``data.id_column``, e.g. application_id) when
both have it, else on ``request_id`` (plus ``index`` for batch requests, when both have it).
"""

from __future__ import annotations

import pandas as pd

from lifecycle.errors import DataError
from lifecycle.gates.result import GateResult
from lifecycle.monitoring.scoring import ModelInfo, row_probabilities
from lifecycle.settings import Settings

METRIC = "roc_auc"
CHECK = "performance decay"


def performance(
    model: ModelInfo | None, current: pd.DataFrame, labels: pd.DataFrame, settings: Settings
) -> GateResult | str:
    """The check's result, or a note saying why it could not be made."""
    gate, target = settings.gates.drift, settings.data.target
    if target not in labels.columns:
        raise DataError(
            f"--labels: no '{target}' column (the label, data.target in {settings.source})"
        )
    keys = join_keys(current, labels, settings)
    known = labels[[*keys, target]].dropna().drop_duplicates(keys, keep="last")
    merged = current.drop(columns=[target], errors="ignore").merge(known, on=keys)
    skipped = f"{CHECK.capitalize()} skipped:"
    if len(merged) < gate.min_rows:
        return (
            f"{skipped} {len(merged)} labelled row(s) match the window, fewer than "
            f"gates.drift.min_rows ({gate.min_rows})."
        )
    truth = (merged[target] == settings.data.positive_label).astype(int)
    if truth.nunique() < 2:
        return f"{skipped} the labelled rows hold one class only."
    proba, source = row_probabilities(model, merged, settings)
    registered = model.metrics.get(METRIC) if model else None
    if proba is None or registered is None or model is None:
        return f"{skipped} no registered model with a {METRIC} to compare with."
    from sklearn.metrics import roc_auc_score

    now = float(roc_auc_score(truth, proba))
    drop = registered - now
    limit = gate.performance_drop_max
    message = (
        f"{METRIC} {now:.4f} on {len(merged)} labelled rows (P(positive) {source}) vs "
        f"{registered:.4f} registered for v{model.version}"
    )
    details = {
        "message": message,
        "registered": registered,
        "current": now,
        "labelled_rows": len(merged),
        "joined_on": keys,
    }
    return GateResult(CHECK, f"{METRIC}_drop", drop, f"≤ {limit}", drop <= limit, details)


def join_keys(current: pd.DataFrame, labels: pd.DataFrame, settings: Settings) -> list[str]:
    ident = settings.data.id_column
    if ident and ident in current.columns and ident in labels.columns:
        return [ident]
    if "request_id" in current.columns and "request_id" in labels.columns:
        both = "index" in current.columns and "index" in labels.columns
        return ["request_id", "index"] if both else ["request_id"]
    wanted = f"{ident} or request_id" if ident else "request_id"
    raise DataError(
        f"--labels: nothing to join the labels to the window on: both need a {wanted} column"
    )
