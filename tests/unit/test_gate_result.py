"""The one gate result shape: Markdown, JSON, atomic report files, blocking and exit codes."""

import json
import re

import numpy as np
import pytest

from lifecycle.errors import GateFailed
from lifecycle.gates.publish import publish, verdict
from lifecycle.gates.result import (
    FOLD_PASSED_ABOVE,
    GateReport,
    GateResult,
    exit_code,
    write_reports,
)

OK = GateResult("holdout roc_auc", "roc_auc", 0.83, "≥ 0.72", True)
BAD = GateResult(
    "sex: demographic parity",
    "demographic_parity_ratio",
    0.62,
    "≥ 0.8",
    False,
    {"message": "rates {'female': 0.45, 'male': 0.28}", "groups": {"female": {"count": 3}}},
)


def test_enforced_failure_blocks_and_exits_1():
    report = GateReport("bias", "enforce", (OK, BAD))
    assert not report.passed and report.blocking
    assert exit_code([report]) == 1
    assert "sex: demographic parity" in report.reason() and "0.62" in report.reason()


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_warn_and_off_never_block(mode):
    report = GateReport("bias", mode, (OK, BAD) if mode == "warn" else ())
    assert not report.blocking
    assert exit_code([report]) == 0


def test_markdown_prints_the_mode_and_marks_each_check():
    text = GateReport("bias", "enforce", (OK, BAD)).to_markdown()
    assert "Mode: **enforce**" in text
    assert "❌ fail" in text
    assert "| ✅ | holdout roc_auc |" in text and "| ❌ | sex: demographic parity |" in text
    assert "⚠️" in GateReport("bias", "warn", (BAD,)).to_markdown()
    assert "Not run (mode off" in GateReport("bias", "off").to_markdown()


def test_markdown_folds_passed_checks_but_keeps_failures_visible():
    many = tuple(GateResult(f"check {i}", "m", i, 1, True) for i in range(FOLD_PASSED_ABOVE))
    text = GateReport("data", "enforce", (*many, BAD)).to_markdown()
    table_before_fold = text.split("<details>")[0]
    assert "sex: demographic parity" in table_before_fold
    assert "check 0" not in table_before_fold and "check 0" in text


def test_json_holds_every_field_and_plain_values():
    numpy_value = GateResult("n", "m", np.float64(0.5), np.int64(1), True, {"x": np.nan})
    body = json.loads(GateReport("model", "warn", (numpy_value, BAD)).to_json())
    assert body["gate"] == "model" and body["mode"] == "warn"
    assert body["passed"] is False and body["blocking"] is False
    first = body["results"][0]
    assert set(first) == {"name", "metric", "value", "threshold", "passed", "details"}
    assert first["value"] == 0.5 and first["threshold"] == 1 and first["details"]["x"] is None


def test_write_reports_writes_json_and_markdown_and_leaves_no_temporary_files(tmp_path):
    paths = write_reports(GateReport("bias", "enforce", (BAD,)), tmp_path / "reports")
    assert sorted(p.name for p in paths) == ["bias.json", "bias.md"]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["bias.json", "bias.md"]
    assert json.loads(paths[0].read_text())["results"][0]["passed"] is False


def test_verdict_names_each_blocking_gate_and_why(tmp_path):
    reports = [GateReport("model", "enforce", (OK,)), GateReport("bias", "enforce", (BAD,))]
    with pytest.raises(GateFailed) as caught:
        verdict(reports, tmp_path)
    message = str(caught.value)
    assert "gate 'bias'" in message and "demographic_parity_ratio" in message
    assert "gate 'model'" not in message
    assert caught.value.exit_code == 1
    assert verdict([GateReport("bias", "warn", (BAD,))], tmp_path) == 0


def row(gate, mode, passed, result):
    """The compact table's row of a gate (columns padded with spaces)."""
    return re.compile(rf"^{gate} +{mode} +{passed} +{re.escape(result)}$", re.MULTILINE)


# a failed check whose message is longer than a Markdown table cell shows (300 characters)
MANY = "out of range: " + ", ".join(map(str, range(200)))
LONG = GateResult("income: range", "expect_between", 0.25, "[0, 1e+07]", False, {"message": MANY})


def test_the_terminal_gets_a_compact_table_of_a_passing_gate(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    many = tuple(GateResult(f"check {i}", "m", i, 1, True) for i in range(40))

    publish([GateReport("data", "enforce", many), GateReport("bias", "off")], tmp_path)

    out = capsys.readouterr().out
    assert row("data", "enforce", "40 of 40", "✅ pass").search(out)
    assert row("bias", "off", "-", "⏸️ off").search(out)
    assert "check 0" not in out and "Mode: **" not in out  # passed checks are counted only
    assert f"full report: {tmp_path / 'data.md'} (or --verbose)" in out
    assert "check 39" in (tmp_path / "data.md").read_text()  # the full report is in reports/


def test_the_terminal_shows_each_failed_check_in_full(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    reports = [GateReport("model", "enforce", (OK,)), GateReport("bias", "warn", (OK, BAD)),
               GateReport("data", "enforce", (OK, OK, LONG), note="3 rows")]  # fmt: skip

    publish(reports, tmp_path)

    out = capsys.readouterr().out
    assert row("model", "enforce", "1 of 1", "✅ pass").search(out)
    assert row("bias", "warn", "1 of 2", "⚠️ fail (warn only)").search(out)
    assert row("data", "enforce", "2 of 3", "❌ fail").search(out)
    assert f"    ❌ {BAD.describe()}\n" in out
    assert "rates {'female': 0.45, 'male': 0.28}" in BAD.describe()
    assert f"    ❌ {LONG.describe()}\n" in out and "198, 199" in out  # never cut short
    assert "    note: 3 rows" in out
    assert "holdout roc_auc" not in out  # passed checks are counted, not listed
    assert "198, 199" not in (tmp_path / "data.md").read_text()  # the table cell is cut


def test_verbose_prints_the_full_report(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    report = GateReport("bias", "enforce", (OK, BAD))

    publish([report], tmp_path, verbose=True)

    out = capsys.readouterr().out
    assert report.to_markdown() in out and "| ✅ | holdout roc_auc |" in out


def test_the_job_summary_gets_the_full_markdown(tmp_path, capsys, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = GateReport("bias", "enforce", (OK, BAD))

    publish([report], tmp_path / "reports")

    written = summary.read_text()
    assert report.to_markdown() in written and "| bias | enforce | ❌ fail | 1/2 |" in written
    out = capsys.readouterr().out
    assert row("bias", "enforce", "1 of 2", "❌ fail").search(out)
    assert "Mode: **enforce**" not in out  # the log shows the compact table


def test_publish_sets_passed_from_blocking_gates_only(tmp_path, monkeypatch):
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    publish([GateReport("bias", "warn", (BAD,))], tmp_path / "warned")
    publish([GateReport("bias", "enforce", (BAD,))], tmp_path / "blocked")
    said = outputs.read_text().splitlines()
    assert [said[i + 1] for i, line in enumerate(said) if line.startswith("passed<<")] == [
        "true",
        "false",
    ]


def test_publish_leaves_a_fuller_report_its_domain_wrote(tmp_path, capsys, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    written = tmp_path / "drift.json"
    written.write_text('{"gate": "drift", "window": {}}')
    report = GateReport("drift", "enforce", (BAD,))
    paths = publish([report], tmp_path, "## Drift", written=True)
    assert paths == [] and "window" in written.read_text()
    assert summary.read_text().startswith("## Drift")
    assert row("drift", "enforce", "0 of 1", "❌ fail").search(capsys.readouterr().out)
    publish([report], tmp_path, "## Drift", written=True, verbose=True)
    assert capsys.readouterr().out.startswith("## Drift")
