"""The data gate: a Great Expectations suite built from the data contract.

Every failure must name the column, the expectation and a few failing values.
"""

import json
import re

import pytest

from lifecycle import cli
from lifecycle.data.generator import generate
from lifecycle.errors import ConfigError
from lifecycle.gates.contract import load_contract
from lifecycle.gates.data import run_data_tests
from lifecycle.settings import load_settings


def failures(report):
    return {r.name: r for r in report.results if not r.passed}


def test_default_data_passes_every_expectation(small_df, settings):
    report = run_data_tests(small_df, settings, load_contract(settings))
    assert report.passed, report.reason()
    checked = {r.name.split(":")[0] for r in report.results}
    assert set(load_contract(settings).columns) <= checked


def test_corrupted_rows_fail_naming_column_expectation_and_values(small_df, settings):
    small_df.loc[:2, "age"] = [-5, 150, 7]
    small_df.loc[10:12, "sex"] = "unknown"
    small_df.loc[20, "application_id"] = small_df.loc[21, "application_id"]

    report = run_data_tests(small_df, settings, load_contract(settings))

    failed = failures(report)
    assert set(failed) == {"age: range", "sex: categories", "application_id: unique"}
    age = failed["age: range"]
    assert age.metric == "expect_column_values_to_be_between"
    assert age.details["unexpected_count"] == 3
    assert set(age.details["failing_values"]) == {-5, 150, 7}
    assert "out of range" in age.details["message"] and "-5" in age.details["message"]
    assert failed["sex: categories"].details["failing_values"] == ["unknown"]
    assert "duplicated" in failed["application_id: unique"].details["message"]
    assert report.blocking


def test_injected_nulls_fail_the_missing_share_per_column(settings):
    report = run_data_tests(generate(3000, 7, "nulls"), settings, load_contract(settings))
    failed = failures(report)
    for column in ("income", "months_employed", "debt_to_income", "education"):
        result = failed[f"{column}: missing share"]
        assert result.metric == "expect_column_values_to_not_be_null"
        assert "missing" in result.details["message"]
        assert result.value > result.threshold


def test_schema_break_fails_naming_missing_extra_and_mistyped_columns(settings):
    report = run_data_tests(generate(3000, 7, "schema"), settings, load_contract(settings))
    failed = failures(report)
    columns = failed["(table): columns"]
    assert columns.details["missing_columns"] == ["income", "num_credit_lines"]
    assert columns.details["unexpected_columns"] == ["annual_income"]
    assert "not in the contract: annual_income" in columns.details["message"]
    assert "expected int64" in failed["age: type"].details["message"]


def test_row_count_bounds_come_from_params(small_df, settings):
    too_few = small_df.head(settings.gates.data.min_rows - 1)
    failed = failures(run_data_tests(too_few, settings, load_contract(settings)))
    assert failed["(table): row count"].value == settings.gates.data.min_rows - 1


def test_distribution_bounds_catch_a_shifted_positive_rate(small_df, settings):
    small_df["default"] = 1
    failed = failures(run_data_tests(small_df, settings, load_contract(settings)))
    assert failed["default: mean"].value == 1


def test_results_and_data_docs_are_written(small_df, settings, tmp_path):
    run_data_tests(small_df, settings, load_contract(settings), tmp_path / "reports")
    folder = tmp_path / "reports" / "data"
    raw = json.loads((folder / "validation.json").read_text())
    assert {suite["suite_name"] for suite in raw} >= {"table", "age", "application_id"}
    assert (folder / "docs" / "index.html").is_file()
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")]


def test_a_contract_typo_is_a_config_error_naming_file_and_key(params_file, tmp_path):
    contract = tmp_path / "contract.yaml"
    contract.write_text("columns:\n  age: {type: int64, maximum: 3}\n")
    settings = load_settings(params_file({"gates": {"data": {"contract": str(contract)}}}))
    with pytest.raises(
        ConfigError, match=r"(?s)contract\.yaml.*columns\.age\.maximum: unknown key"
    ):
        load_contract(settings)


def test_validate_exits_1_naming_the_gate_and_the_column(small_df, data_file, settings, capsys):
    small_df.loc[:4, "utilization"] = 7.5
    path = data_file(small_df, "batch.csv")

    code = cli.main(
        [
            "validate",
            "--params",
            str(settings.source),
            "--data",
            str(path),
            "--reports",
            str(path.parent / "reports"),
        ]
    )

    captured = capsys.readouterr()
    assert code == 1
    assert "gate 'data'" in captured.err and "utilization: range" in captured.err
    assert re.search(r"^data +enforce +\d+ of \d+ +❌ fail$", captured.out, re.MULTILINE)
    assert "    ❌ utilization: range: " in captured.out and "e.g. 7.5" in captured.out
    assert "age: range" not in captured.out  # passed checks are counted, not listed


def test_validate_in_warn_mode_reports_but_exits_0(small_df, data_file, params_file, capsys):
    small_df.loc[:4, "utilization"] = 7.5
    path = data_file(small_df)
    params = params_file({"gates": {"data": {"mode": "warn"}, "integrity": {"mode": "off"}}})
    reports = path.parent / "reports"

    args = ["validate", "--params", str(params), "--data", str(path), "--reports", str(reports)]
    code = cli.main(args)

    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^data +warn +\d+ of \d+ +⚠️ fail \(warn only\)$", out, re.MULTILINE)
    assert re.search(r"^integrity +off +- +⏸️ off$", out, re.MULTILINE)

    assert cli.main([*args, "--verbose"]) == 0

    out = capsys.readouterr().out  # the full report: every check, the passed ones too
    assert (reports / "data.md").read_text(encoding="utf-8").strip() in out
    assert "| data | warn | ⚠️ fail (warn only) |" in out and "| ✅ | age: range |" in out


@pytest.mark.parametrize("content", [None, b"PAR1 not really parquet"])
def test_validate_exits_2_when_the_file_cannot_be_read(settings, tmp_path, capsys, content):
    path = tmp_path / "batch.parquet"
    if content is not None:
        path.write_bytes(content)

    code = cli.main(["validate", "--params", str(settings.source), "--data", str(path)])

    assert code == 2
    assert str(path) in capsys.readouterr().err
