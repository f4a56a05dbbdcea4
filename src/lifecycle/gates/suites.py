"""The data contract as Great Expectations suites: one for the table, one per column.

Each expectation carries ``meta`` (column, check, threshold) so its result can be reported in
the contract's own words ("age: range", threshold "[18, 100]").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from lifecycle.gates.contract import ColumnRule, Contract
from lifecycle.gates.result import format_value
from lifecycle.settings import Settings

TABLE = "(table)"


def batches(
    frame: pd.DataFrame, settings: Settings, contract: Contract
) -> Iterator[tuple[str, pd.DataFrame, Any]]:
    """(name, batch, suite): the table suite on the frame, then one per column present.

    Each column is validated as its own one-column batch: GX drops missing values from the
    whole batch before every column check, so narrow batches keep a million rows fast."""
    import great_expectations as gx

    table = gx.ExpectationSuite(name="table", expectations=table_expectations(settings, contract))
    yield "table", frame, table
    for column, rule in contract.columns.items():
        if column in frame.columns:
            expectations = column_expectations(column, rule)
            yield column, frame[[column]], gx.ExpectationSuite(column, expectations=expectations)


def table_expectations(settings: Settings, contract: Contract) -> list[Any]:
    """Row count within gates.data.min_rows/max_rows; the contract's columns (and no others
    unless extra_columns is allow)."""
    import great_expectations.expectations as gxe

    gate = settings.gates.data
    exact = contract.extra_columns == "forbid"
    rows = f"[{gate.min_rows}, {gate.max_rows}]"
    columns = "exactly the contract's" if exact else "the contract's, others allowed"
    return [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=gate.min_rows, max_value=gate.max_rows, meta=meta(TABLE, "row count", rows)
        ),
        gxe.ExpectTableColumnsToMatchSet(
            column_set=list(contract.columns),
            exact_match=exact,
            meta=meta(TABLE, "columns", columns),
        ),
    ]


def column_expectations(column: str, rule: ColumnRule) -> list[Any]:
    """Type and missing share always; range, categories, uniqueness, mean, median as stated."""
    import great_expectations.expectations as gxe

    wanted: list[tuple[type, dict[str, Any], str, Any]] = [
        (gxe.ExpectColumnValuesToBeOfType, {"type_": rule.type}, "type", rule.type),
        (
            gxe.ExpectColumnValuesToNotBeNull,
            {"mostly": 1 - rule.max_null_share},
            "missing share",
            rule.max_null_share,
        ),
    ]
    if rule.min is not None or rule.max is not None:
        span = f"[{format_value(rule.min)}, {format_value(rule.max)}]"
        bounds = {"min_value": rule.min, "max_value": rule.max}
        wanted.append((gxe.ExpectColumnValuesToBeBetween, bounds, "range", span))
    if rule.allowed is not None:
        allowed = {"value_set": rule.allowed}
        wanted.append((gxe.ExpectColumnValuesToBeInSet, allowed, "categories", rule.allowed))
    if rule.unique:
        wanted.append((gxe.ExpectColumnValuesToBeUnique, {}, "unique", "no duplicates"))
    for stat, kind in (
        ("mean", gxe.ExpectColumnMeanToBeBetween),
        ("median", gxe.ExpectColumnMedianToBeBetween),
    ):
        limits = getattr(rule, stat)
        if limits is not None:
            bounds = {"min_value": limits[0], "max_value": limits[1]}
            wanted.append((kind, bounds, stat, limits))
    return [
        kind(column=column, meta=meta(column, check, threshold), **kwargs)
        for kind, kwargs, check, threshold in wanted
    ]


def meta(column: str, check: str, threshold: Any) -> dict[str, Any]:
    return {"column": column, "check": check, "threshold": threshold}
