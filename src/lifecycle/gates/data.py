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

from lifecycle.gates.contract import Contract
from lifecycle.gates.registry import Context, Gate
from lifecycle.gates.result import GateReport, GateResult
from lifecycle.gates.suites import TABLE, batches
from lifecycle.settings import Settings

NAME = "data"
FAILING_VALUES = 5
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": FAILING_VALUES}


def run_data_tests(
    frame: pd.DataFrame, settings: Settings, contract: Contract, out_dir: Path | None = None
) -> GateReport:
    """Validate ``frame`` against the contract; with ``out_dir``, write JSON and Data Docs there."""
    mode = settings.gates.data.mode
    if mode == "off":
        return GateReport(NAME, mode)
    with _quiet_fingerprint():
        context, docs = _context()
        try:
            outcomes = [
                _validate(context, name, part, suite)
                for name, part, suite in batches(frame, settings, contract)
            ]
            if out_dir is not None:
                _publish(context, docs, outcomes, out_dir)
        finally:
            shutil.rmtree(docs, ignore_errors=True)
    results = [_to_result(r) for outcome in outcomes for r in outcome.results]
    note = f"{len(frame)} rows, {len(frame.columns)} columns, contract {contract.source}"
    return GateReport(NAME, mode, tuple(results), note=note)


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
    asset = context.data_sources.add_pandas("batches").add_dataframe_asset("credit")
    asset.add_batch_definition_whole_dataframe("frame")  # one definition: each run brings its frame
    return context, docs


def _validate(context: Any, name: str, batch: pd.DataFrame, suite: Any) -> Any:
    import great_expectations as gx

    asset = context.data_sources.get("batches").get_asset("credit")
    definition = asset.get_batch_definition("frame")
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
    """reports/data/validation.json and the Data Docs site (reports/data/docs), swapped in whole:
    built in a temporary folder beside it, so a failure leaves the previous reports intact."""
    context.build_data_docs(site_names=["reports"])
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{NAME}."))
    try:
        shutil.copytree(docs, staged / "docs")
        raw = json.dumps([outcome.to_json_dict() for outcome in outcomes], indent=2, default=str)
        (staged / "validation.json").write_text(raw, encoding="utf-8")
        for folder in (staged, staged / "docs"):
            folder.chmod(0o755)  # mkdtemp makes private folders; reports are for reading
        _swap(staged, out_dir / NAME)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _swap(new: Path, target: Path) -> None:
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.replace(old)
    new.replace(target)
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
        shown = result.get("partial_unexpected_list") or []
        failing = list(dict.fromkeys(_plain(v) for v in shown))
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
        said = [
            f"missing: {', '.join(missing)}" if missing else "",
            f"not in the contract: {', '.join(extra)}" if extra else "",
        ]
        details["message"] = "; ".join(part for part in said if part)
    elif config.type.endswith("of_type") and observed != config.kwargs.get("type_"):
        details["message"] = f"dtype {observed}, expected {config.kwargs.get('type_')}"
    return details


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def check(context: Context) -> GateReport:
    from lifecycle.gates.contract import load_contract

    contract = load_contract(context.settings)
    return run_data_tests(context.frame, context.settings, contract, context.reports)


GATE = Gate(NAME, "data", "the data contract as Great Expectations suites", check)
