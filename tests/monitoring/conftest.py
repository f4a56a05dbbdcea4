"""Helpers for the monitoring tests: run `lifecycle drift` and read what it wrote."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lifecycle import cli


def read_outputs(path: Path) -> dict[str, str]:
    """GitHub step outputs (name<<delimiter / value / delimiter) as a dict."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    found = {}
    for index in range(0, len(lines), 3):  # each: name<<delimiter, value, delimiter
        found[lines[index].partition("<<")[0]] = lines[index + 1]
    return found


@pytest.fixture
def run_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, dict[str, Any], dict[str, str]]]:
    """run_drift(params, *args) -> (exit code, reports/drift.json, GitHub outputs)."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    def run(params: Path, *args: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        outputs = tmp_path / f"outputs-{len(list(tmp_path.glob('outputs-*')))}"
        monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
        reports = tmp_path / "reports"
        code = cli.main(["drift", "--params", str(params), "--reports", str(reports), *args])
        report = json.loads((reports / "drift.json").read_text(encoding="utf-8"))
        return code, report, read_outputs(outputs)

    return run
