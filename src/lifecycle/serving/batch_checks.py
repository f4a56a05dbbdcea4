"""A chunk of a batch checked column by column against the request schema, and scored.

The rules are the service's (``lifecycle.serving.spec``), applied to whole columns at once: a
feature that may not be missing is present, a number is a finite number (an integer feature a
whole one) within the contract's bounds, a category is text of 1 to ``MAX_TEXT`` characters
among the allowed values. Numbers written as text (as every CSV value is) count as numbers.
The model gets the columns as the service gives them: numbers as float64, missing values NaN
(text columns as pandas categoricals, which its preprocessing reads as the same values, faster).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from lifecycle.serving.spec import MAX_TEXT, FeatureSpec
from lifecycle.training.model import POSITIVE, Labels

Mask = npt.NDArray[np.bool_]
Found = list[tuple[Mask, str]]  # (mask of the rows that fail a check, what is wrong)
Check = tuple[str, Mask, str]  # the same, with the feature


@dataclass(frozen=True)
class Checked:
    frame: pd.DataFrame  # the model's input, every row
    valid: Mask  # mask of the rows the model may score
    reasons: list[str]  # why, for each row that is not valid, in order
    bad_rows: dict[str, int]  # feature -> rows with a bad value in it


def check(chunk: pd.DataFrame, features: tuple[FeatureSpec, ...]) -> Checked:
    """Every feature column of ``chunk`` checked: the model's input and the bad rows."""
    columns: dict[str, Any] = {}
    checks: list[Check] = []
    for feature in features:
        series = chunk[feature.name]
        if feature.kind == "category":
            columns[feature.name], found = _category(series, feature)
        else:
            columns[feature.name], found = _number(series, feature)
        checks += [(feature.name, mask, problem) for mask, problem in found if mask.any()]
    bad = np.zeros(len(chunk), dtype=bool)
    by_feature: dict[str, Mask] = {}
    for name, mask, _ in checks:
        bad |= mask
        by_feature[name] = by_feature.get(name, np.zeros(len(chunk), dtype=bool)) | mask
    reasons = _reasons(chunk, checks, np.flatnonzero(bad))
    frame = pd.DataFrame(columns).set_axis(chunk.index)
    counts = {name: int(mask.sum()) for name, mask in by_feature.items()}
    return Checked(frame, ~bad, reasons, counts)


def _reasons(chunk: pd.DataFrame, checks: list[Check], rows: npt.NDArray[np.intp]) -> list[str]:
    """For each of ``rows`` (the bad ones), ``feature=value: problem`` for each check it fails,
    joined by "; ": built check by check over the failing rows, not row by row."""
    reasons = np.full(len(rows), "", dtype=object)
    started = np.zeros(len(rows), dtype=bool)
    for name, mask, problem in checks:
        hit = mask[rows]
        values = chunk[name].iloc[rows[hit]].tolist()
        found = np.array([f"{name}={_shown(value)}: {problem}" for value in values], dtype=object)
        reasons[hit] = np.where(started[hit], reasons[hit] + "; " + found, found)
        started |= hit
    return list(reasons)


def _shown(value: Any) -> str:
    return "missing" if value is None or value is pd.NA or value != value else repr(value)


def _number(series: pd.Series, feature: FeatureSpec) -> tuple[npt.NDArray[np.float64], Found]:
    missing = series.isna().to_numpy()
    if pd.api.types.is_bool_dtype(series):  # True is no number, as in the service
        values = np.full(len(series), np.nan)
    else:
        numbers = pd.to_numeric(series, errors="coerce")
        values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    absent = np.isnan(values)
    infinite = np.isinf(values)
    found = [
        (absent & ~missing, "is not a number"),
        (infinite, "is not finite"),
    ]
    if not feature.nullable:
        found.append((missing, "is missing"))
    if feature.kind == "integer":
        found.append((~absent & ~infinite & (values != np.floor(values)), "is not an integer"))
    if feature.minimum is not None:
        found.append((values < feature.minimum, f"is below the minimum {feature.minimum:g}"))
    if feature.maximum is not None:
        found.append((values > feature.maximum, f"is above the maximum {feature.maximum:g}"))
    return values, found


def _category(series: pd.Series, feature: FeatureSpec) -> tuple[pd.Series, Found]:
    if isinstance(series.dtype, pd.StringDtype):
        series = series.astype("category")
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return _uncategorised(series, feature)
    # each distinct value (category) checked once, each row through its code (-1: missing)
    values = series.cat.categories.to_numpy(dtype=object)
    codes = series.cat.codes.to_numpy()
    missing = codes == -1

    def of_rows(per_value: Any, fill: Any = False) -> npt.NDArray[Any]:
        return np.append(np.asarray(per_value), fill)[codes]  # index -1: the fill

    is_text = np.array([isinstance(value, str) for value in values], dtype=bool)
    lengths = [len(value) if isinstance(value, str) else np.nan for value in values]
    known = ~is_text | pd.Index(values).isin(feature.categories or values)
    found = _found(
        feature, missing, of_rows(is_text), of_rows(lengths, np.nan), of_rows(known, True)
    )
    # a categorical column: the model's imputer and encoder read its few categories, not one
    # string per row (the same values, read faster)
    return (series if is_text.all() else _objects(series, of_rows(is_text))), found


def _uncategorised(series: pd.Series, feature: FeatureSpec) -> tuple[pd.Series, Found]:
    """Any other column: objects (text among them or not), numbers, booleans, dates."""
    missing = series.isna().to_numpy()
    if series.dtype == object:
        text = series.map(lambda value: isinstance(value, str)).to_numpy(dtype=bool)
    else:  # numbers, booleans, dates: no text
        text = np.zeros(len(series), dtype=bool)
    texts = series.where(text)
    lengths = texts.str.len().to_numpy(dtype="float64", na_value=np.nan) if text.any() else text
    known = ~text | texts.isin(feature.categories or texts).to_numpy()
    return _objects(series, text), _found(feature, missing, text, lengths, known)


def _found(feature: FeatureSpec, missing: Mask, text: Mask, lengths: Any, known: Mask) -> Found:
    """The problems of a category column, from what is known of each row's value."""
    found = [(~text & ~missing, "is not text")]
    if not feature.nullable:
        found.append((missing, "is missing"))
    found.append((text & (lengths == 0), "is empty"))
    found.append((text & (lengths > MAX_TEXT), f"is longer than {MAX_TEXT} characters"))
    if feature.categories:
        found.append((~known, f"is not one of {', '.join(feature.categories)}"))
    return found


def _objects(series: pd.Series, text: Mask) -> pd.Series:
    """Text as objects and anything else as NaN, as the model takes a category column."""
    return series.astype(object).where(text, np.nan)


def predict(
    model: Any, frame: pd.DataFrame, labels: Labels
) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any]]:
    """(P(positive), predicted label) per row, the label being the target's own: one
    predict_proba call, as the service makes."""
    named = labels.of(model.classes_)
    if frame.empty:
        return np.empty(0, dtype="float64"), named[:0]
    proba = model.predict_proba(frame)
    return proba[:, list(model.classes_).index(POSITIVE)], named[proba.argmax(axis=1)]
