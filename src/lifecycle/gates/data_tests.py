"""Data tests: a Great Expectations suite built from the data contract, run on any batch.

The contract (gates.data.contract) becomes one suite for the table (row count, column set) and
one per column (type, missing share, range or categories, uniqueness, distribution bounds).
Each column is validated as its own one-column batch: Great Expectations filters the whole
batch before every column check, so narrow batches keep a million rows fast. Results become
gate results (a failure names the column, the expectation and a few failing values); the raw
validation results (JSON) and Data Docs (HTML) go to reports/data/.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle.gates.contract import ColumnRule, Contract
from lifecycle.gates.result import GateReport, GateResult, format_value, write_text
from lifecycle.settings import Settings

GATE = "data"
TABLE = "(table)"
FAILING_VALUES = 5
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": FAILING_VALUES}


def run_data_tests(
    frame: pd.DataFrame, settings: Settings, contract: Contract, out_dir: Path | None = None
) -> GateReport:
    """Validate ``frame`` against the contract; with ``out_dir``, write JSON and Data Docs there."""
    mode = settings.gates.data.mode
    if mode == "off":
        return GateReport(GATE, mode)
    with _quiet_fingerprint():
        context, docs = _context()
        try:
            outcomes = [_validate(context, name, part, suite) for name, part, suite in
                        _batches(frame, settings, contract)]  # fmt: skip
            if out_dir is not None:
                _publish(context, docs, outcomes, out_dir)
        finally:
            shutil.rmtree(docs, ignore_errors=True)
    results = [_to_result(r) for outcome in outcomes for r in outcome.results]
    note = f"{len(frame)} rows, {len(frame.columns)} columns, contract {contract.source}"
    return GateReport(GATE, mode, tuple(results), note=note)


def _batches(frame: pd.DataFrame, settings: Settings, contract: Contract) -> Iterator[tuple]:
    """(name, batch, suite): the table suite on the frame, then one suite per present column."""
    import great_expectations as gx

    table = gx.ExpectationSuite(name="table", expectations=_table_expectations(settings, contract))
    yield "table", frame, table
    for column, rule in contract.columns.items():
        if column in frame.columns:
            suite = gx.ExpectationSuite(
                name=column, expectations=_column_expectations(column, rule)
            )
            yield column, frame[[column]], suite


def _table_expectations(settings: Settings, contract: Contract) -> list[Any]:
    import great_expectations.expectations as gxe

    gate = settings.gates.data
    exact = contract.extra_columns == "forbid"
    return [
        gxe.ExpectTableRowCountToBeBetween(
            min_value=gate.min_rows, max_value=gate.max_rows,
            meta=_meta(TABLE, "row count", f"[{gate.min_rows}, {gate.max_rows}]"),
        ),
        gxe.ExpectTableColumnsToMatchSet(
            column_set=list(contract.columns), exact_match=exact,
            meta=_meta(TABLE, "columns", "exactly the contract's" if exact else "contract's present"),
        ),
    ]  # fmt: skip


def _column_expectations(column: str, rule: ColumnRule) -> list[Any]:
    import great_expectations.expectations as gxe

    found = [
        gxe.ExpectColumnValuesToBeOfType(column=column, type_=rule.type,
                                         meta=_meta(column, "type", rule.type)),
        gxe.ExpectColumnValuesToNotBeNull(column=column, mostly=1 - rule.max_null_share,
                                          meta=_meta(column, "missing share", rule.max_null_share)),
    ]  # fmt: skip
    if rule.min is not None or rule.max is not None:
        found.append(gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=rule.min, max_value=rule.max,
            meta=_meta(column, "range", f"[{format_value(rule.min)}, {format_value(rule.max)}]"),
        ))  # fmt: skip
    if rule.allowed is not None:
        found.append(gxe.ExpectColumnValuesToBeInSet(
            column=column, value_set=rule.allowed, meta=_meta(column, "categories", rule.allowed)
        ))  # fmt: skip
    if rule.unique:
        found.append(gxe.ExpectColumnValuesToBeUnique(column=column,
                                                      meta=_meta(column, "unique", "no duplicates")))  # fmt: skip
    if rule.mean is not None:
        found.append(gxe.ExpectColumnMeanToBeBetween(
            column=column, min_value=rule.mean[0], max_value=rule.mean[1],
            meta=_meta(column, "mean", rule.mean),
        ))  # fmt: skip
    if rule.median is not None:
        found.append(gxe.ExpectColumnMedianToBeBetween(
            column=column, min_value=rule.median[0], max_value=rule.median[1],
            meta=_meta(column, "median", rule.median),
        ))  # fmt: skip
    return found


def _meta(column: str, check: str, threshold: Any) -> dict[str, Any]:
    return {"column": column, "check": check, "threshold": threshold}


def _context() -> tuple[Any, Path]:
    """An in-memory GX context whose Data Docs site is a fresh temporary folder."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    docs = Path(tempfile.mkdtemp(prefix="lifecycle-data-docs-"))
    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        data_docs_sites={"reports": site},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas("batches").add_dataframe_asset("credit")
    return context, docs


def _validate(context: Any, name: str, batch: pd.DataFrame, suite: Any) -> Any:
    import great_expectations as gx

    asset = context.data_sources.get("batches").get_asset("credit")
    definition = asset.add_batch_definition_whole_dataframe(name)
    suite = context.suites.add(suite)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=definition, suite=suite)
    )
    return validation.run(batch_parameters={"dataframe": batch}, result_format=RESULT_FORMAT)


@contextlib.contextmanager
def _quiet_fingerprint() -> Iterator[None]:
    """GX hashes every in-memory batch under 1 GB to fingerprint it (about a second per million
    rows); the fingerprint is metadata we never read (data.version records the data), so the
    threshold is set to zero while our suites run."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    before = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = before


def _publish(context: Any, docs: Path, outcomes: list[Any], out_dir: Path) -> None:
    """reports/data/validation.json and the Data Docs site in reports/data/docs, swapped in whole."""
    context.build_data_docs(site_names=["reports"])
    raw = [outcome.to_json_dict() for outcome in outcomes]
    write_text(docs / "validation.json", json.dumps(raw, indent=2, default=str))
    target = out_dir / GATE
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{GATE}."))
    shutil.copytree(docs, staged / "docs")
    (staged / "docs" / "validation.json").replace(staged / "validation.json")
    old = out_dir / f".{GATE}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.replace(old)
    staged.replace(target)
    shutil.rmtree(old, ignore_errors=True)


def _to_result(r: Any) -> GateResult:
    config = r.expectation_config
    meta = config.meta or {}
    column, check = meta.get("column", config.kwargs.get("column", TABLE)), meta.get("check", "")
    details = _details(r)
    value = details.pop("value", None)
    return GateResult(
        name=f"{column}: {check}",
        metric=config.type,
        value=value,
        threshold=meta.get("threshold"),
        passed=bool(r.success),
        details=details,
    )


def _details(r: Any) -> dict[str, Any]:
    """value (observed value or missing/unexpected share) and, on failure, a readable message."""
    result = r.result or {}
    info = r.exception_info or {}
    if info.get("raised_exception"):
        return {"value": None, "message": f"could not run: {info.get('exception_message')}"}
    if "observed_value" in result:
        return _aggregate_details(r.expectation_config, result)
    share = (result.get("unexpected_percent") or 0.0) / 100
    details: dict[str, Any] = {
        "value": round(share, 6),
        "unexpected_count": result.get("unexpected_count", 0),
        "rows": result.get("element_count"),
    }
    if not r.success:
        failing = list(
            dict.fromkeys(_plain(v) for v in result.get("partial_unexpected_list") or [])
        )
        example = f", e.g. {', '.join(map(repr, failing))}" if failing else ""
        what = _FAILURE_WORDS.get(r.expectation_config.type, "unexpected")
        details["message"] = f"{details['unexpected_count']} value(s) {what} ({share:.2%}){example}"
        details["failing_values"] = failing
    return details


_FAILURE_WORDS = {
    "expect_column_values_to_not_be_null": "missing",
    "expect_column_values_to_be_between": "out of range",
    "expect_column_values_to_be_in_set": "not among the allowed categories",
    "expect_column_values_to_be_unique": "duplicated",
}


def _aggregate_details(config: Any, result: dict[str, Any]) -> dict[str, Any]:
    observed = _plain(result.get("observed_value"))
    details: dict[str, Any] = {"value": len(observed) if isinstance(observed, list) else observed}
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched:
        missing, extra = mismatched.get("missing") or [], mismatched.get("unexpected") or []
        details["missing_columns"], details["unexpected_columns"] = missing, extra
        details["message"] = "; ".join(
            p for p in (f"missing: {', '.join(missing)}" if missing else "",
                        f"not in the contract: {', '.join(extra)}" if extra else "") if p
        )  # fmt: skip
    elif config.type.endswith("of_type") and observed != config.kwargs.get("type_"):
        details["message"] = f"dtype {observed}, expected {config.kwargs.get('type_')}"
    return details


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value
