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


@pytest.fixture
def write_log(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """write_log(folder, frame, corrupt_lines=(), probabilities=None) -> the log file: the frame's
    rows logged as the service logs them (jsonl sink), then the corrupt lines appended."""
    from lifecycle.serving.predlog import ENV_PATH, Entry, PredictionLog, now

    monkeypatch.delenv(ENV_PATH, raising=False)

    def write(folder: Path, frame: Any, corrupt_lines: Any = (), probabilities: Any = None) -> Path:
        features = frame.drop(columns=["default", "application_id"], errors="ignore")
        rows = features.astype(object).where(features.notna(), None).to_dict("records")
        scores = [0.2] * len(rows) if probabilities is None else list(probabilities)
        log = PredictionLog("jsonl", folder, {"model_name": "credit-default", "model_version": "1"})
        for start in range(0, len(rows), 10):  # ten rows per request
            part = slice(start, start + 10)
            scored = [(int(s >= 0.5), float(s)) for s in scores[part]]
            log.write(Entry(now(), f"r{start // 10}", "predict_batch", rows[part], scored))
        log.close()
        (path,) = folder.glob("*.jsonl")
        with path.open("a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in corrupt_lines))
        return path

    return write
