"""The one gate result shape: Markdown, JSON, atomic report files, blocking and exit codes."""

import json

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


def test_publish_prints_an_overview_with_every_mode(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    reports = [GateReport("model", "enforce", (OK,)), GateReport("bias", "warn", (BAD,))]
    publish(reports, tmp_path)
    out = capsys.readouterr().out
    assert "| model | enforce | ✅ pass | 1/1 |" in out
    assert "| bias | warn | ⚠️ fail (warn only) | 0/1 |" in out


def test_publish_appends_to_the_job_summary_in_actions(tmp_path, capsys, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    publish([GateReport("bias", "enforce", (BAD,))], tmp_path / "reports")
    assert "Mode: **enforce**" in summary.read_text()
    assert "Mode: **enforce**" in capsys.readouterr().out
