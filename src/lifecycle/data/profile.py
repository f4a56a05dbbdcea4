"""Profile a data file for `lifecycle init`: columns by type, the task and its positive label,
and the data contract's rules per column (types, ranges, categories, null shares).

Everything is derived from the data and the options, so the same inputs give the same profile.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle.errors import DataError, UsageError

MAX_CATEGORIES = 50  # a text column with more distinct values gets no list of allowed categories
CODE_VALUES = 10  # an integer feature with at most this many values may be codes: say so
REGRESSION_VALUES = 10  # a numeric target with more distinct values than this is a regression
CONTRACT_TYPES = ("int64", "float64", "str")  # the data contract's column types (ColumnRule.type)
QUANTILES = (0.01, 0.99)  # ranges: this span, widened by its width on each side


@dataclass(frozen=True)
class Profile:
    """What `init` found in the data; ``rules`` are the contract's, per column."""

    path: Path
    rows: int
    target: str
    positive_label: int | str
    positive_share: float
    id_column: str | None
    numeric: list[str]
    categorical: list[str]
    protected: list[str]
    rules: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def profile(
    frame: pd.DataFrame,
    path: Path,
    target: str,
    *,
    task: str = "classification",
    positive_label: str | None = None,
    protected: tuple[str, ...] = (),
    id_column: str | None = None,
) -> Profile:
    """Classify every column of ``frame`` and derive the contract's rules from its values."""
    _require_columns(frame, [target, *protected, *([id_column] if id_column else [])])
    label = _positive_label(frame[target], task, positive_label)
    notes: list[str] = []
    id_column = id_column or _find_id(frame, {target, *protected}, notes)
    named = {target, *protected, id_column}
    kinds = {str(c): _kind(frame[c]) for c in frame.columns}
    unusable = [f"'{c}': {kind}" for c, kind in kinds.items() if kind not in CONTRACT_TYPES]
    if unusable:
        raise DataError(f"{path}: column(s) the template cannot use:\n  " + "\n  ".join(unusable))
    features = [c for c in kinds if c not in named]
    rules = {c: _rule(frame[c], kinds[c], unique=c == id_column) for c in kinds}
    rules[target] = {"type": kinds[target], "allowed": sorted(map(_plain, frame[target].unique()))}
    notes += _notes(frame, features, kinds, rules)
    return Profile(
        path=path,
        rows=len(frame),
        target=target,
        positive_label=label,
        positive_share=float((frame[target] == label).mean()),
        id_column=id_column,
        numeric=[c for c in features if kinds[c] != "str"],
        categorical=[c for c in features if kinds[c] == "str"],
        protected=list(protected),
        rules=rules,
        notes=notes,
    )


def model_name(data: Path) -> str:
    """A registered model name from the data file's name: ``Churn Data.csv`` -> ``churn-data``."""
    return re.sub(r"[^a-z0-9]+", "-", data.stem.lower()).strip("-") or "model"


def _require_columns(frame: pd.DataFrame, named: list[str]) -> None:
    missing = [c for c in named if c not in frame.columns]
    if missing:
        columns = ", ".join(map(str, frame.columns))
        raise UsageError(f"column(s) {', '.join(missing)} not in the data; its columns: {columns}")
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise UsageError(f"{', '.join(twice)} named twice: target, protected and id are distinct")


def _positive_label(target: pd.Series, task: str, wanted: str | None) -> int | str:
    """The class that counts as positive: ``wanted`` if given, else the rarer one."""
    name = target.name
    if task != "classification":
        raise UsageError(f"task '{task}' is not supported yet: only classification is")
    if target.isna().any():
        raise DataError(f"target '{name}' has missing values: every row needs a label")
    kind = _kind(target)
    if kind not in ("int64", "str"):
        raise DataError(f"target '{name}': {kind}" if kind != "float64" else _float_target(target))
    counts = target.value_counts()
    if len(counts) > REGRESSION_VALUES and kind == "int64":
        raise UsageError(_regression(target))
    if len(counts) != 2:
        raise DataError(
            f"target '{name}' has {len(counts)} distinct value(s) {sorted(counts.index)[:5]!r}: "
            "a classification target needs exactly two"
        )
    if wanted is None:  # the rarer class; on a tie the last in sorted order
        rarer: int | str = _plain(sorted(counts.index, key=lambda v: (-counts[v], str(v)))[-1])
        return rarer
    found = [v for v in counts.index if str(v) == wanted]
    if not found:
        raise UsageError(
            f"--positive-label {wanted!r} is not a value of target '{name}': "
            f"choose one of {', '.join(map(str, sorted(counts.index, key=str)))}"
        )
    chosen: int | str = _plain(found[0])
    return chosen


def _float_target(target: pd.Series) -> str:
    if target.nunique() > REGRESSION_VALUES:
        return _regression(target)
    return f"target '{target.name}' holds decimals: store its two classes as text or integers"


def _regression(target: pd.Series) -> str:
    return (
        f"target '{target.name}' holds {target.nunique()} distinct numbers: that is a regression "
        "task, which is not supported yet (only binary classification is)"
    )


def _kind(column: pd.Series) -> str:
    """int64, float64 or str (the contract's types), else why the column cannot be used."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "holds true/false: store it as text ('yes'/'no') or as 0/1"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "holds dates: derive numbers from them (e.g. days since) or store them as text"
    if str(dtype) in CONTRACT_TYPES:
        return str(dtype)
    if pd.api.types.is_numeric_dtype(dtype):
        return f"has dtype {dtype}: store it as int64 or float64"
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        return "str"
    return f"mixes types ({pd.api.types.infer_dtype(column, skipna=True)}): make it all text"


def _find_id(frame: pd.DataFrame, named: set[str], notes: list[str]) -> str | None:
    """The one text column with a distinct value per row, if there is exactly one."""
    unique = [
        str(c)
        for c in frame.columns
        if c not in named and _kind(frame[c]) == "str" and frame[c].is_unique
    ]
    if len(unique) > 1:
        raise UsageError(
            f"columns {', '.join(unique)} each hold a distinct text per row: name the "
            "identifier with --id-column and drop the others from the data"
        )
    if unique:
        notes.append(f"'{unique[0]}' is distinct on every row: it is the id column, not a feature")
    return unique[0] if unique else None


def _rule(column: pd.Series, kind: str, *, unique: bool) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": kind}
    share = float(column.isna().mean())
    if share:
        rule["max_null_share"] = min(1.0, math.ceil(share * 200) / 100)  # twice, rounded up
    if unique:
        rule["unique"] = True
    elif kind != "str":
        rule["min"], rule["max"] = _range(column.dropna(), integer=kind == "int64")
    elif column.nunique() <= MAX_CATEGORIES:
        rule["allowed"] = sorted(map(str, column.dropna().unique()))
    return rule


def _range(values: pd.Series, *, integer: bool) -> tuple[float, float]:
    """The 1st-99th percentile span widened by its width each side, never narrower than the
    data, never below zero for a column that has no negative value."""
    low, high = (float(q) for q in values.quantile(list(QUANTILES)))
    width = (high - low) or abs(high) or 1.0
    smallest, largest = float(values.min()), float(values.max())
    lo, hi = min(smallest, low - width), max(largest, high + width)
    lo = max(lo, 0.0) if smallest >= 0 else lo
    lo, hi = _round_out(lo, up=False), _round_out(hi, up=True)
    return (int(lo), int(hi)) if integer else (lo, hi)


def _round_out(value: float, *, up: bool) -> float:
    """``value`` rounded away from the data to two significant digits (e.g. 1234 -> 1300)."""
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 1)
    steps = math.ceil(value / step) if up else math.floor(value / step)
    return float(round(steps * step, 12))


def _notes(
    frame: pd.DataFrame,
    features: list[str],
    kinds: dict[str, str],
    rules: dict[str, dict[str, Any]],
) -> list[str]:
    """What a reviewer should look at: integer codes, numeric identifiers, free text."""
    notes = []
    for column in features:
        distinct = frame[column].nunique()
        if kinds[column] == "int64" and distinct <= CODE_VALUES:
            notes.append(
                f"'{column}': {distinct} distinct integers, listed as numeric; if they are codes "
                "rather than amounts, store them as text and move it to data.features.categorical"
            )
        elif kinds[column] != "str" and frame[column].is_unique:
            notes.append(f"'{column}' is distinct on every row: if it is an id, pass --id-column")
        elif kinds[column] == "str" and "allowed" not in rules[column]:
            notes.append(f"'{column}' has {distinct} categories: the contract lists none of them")
    return notes


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value YAML can write."""
    return value.item() if hasattr(value, "item") else value
