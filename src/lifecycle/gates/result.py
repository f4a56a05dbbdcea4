"""The one result shape every gate returns, rendered as Markdown (summaries, PR comments) and JSON.

A gate yields ``GateResult`` rows (name, metric, value, threshold, passed, details); a
``GateReport`` holds them with the gate's mode from params.yaml. Only an enforced gate that
failed blocks: ``warn`` reports without blocking, ``off`` does not run.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORTS = Path("reports")
# above this many rows, passing rows fold into a <details> block so failures stay visible
FOLD_PASSED_ABOVE = 12


@dataclass(frozen=True)
class GateResult:
    """One check: ``metric`` measured ``value`` against ``threshold``; ``details`` says more."""

    name: str
    metric: str
    value: Any
    threshold: Any
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    def describe(self) -> str:
        """The check in one line, in full: what it measured against what, and why."""
        said = (
            f"{self.name}: {self.metric} = {format_value(self.value)} "
            f"(threshold {format_value(self.threshold)})"
        )
        why = _summary(self.details)
        return f"{said}, {why}" if why else said


@dataclass(frozen=True)
class GateReport:
    """The results of one gate and the mode it ran in (enforce, warn or off)."""

    gate: str
    mode: str
    results: tuple[GateResult, ...] = ()
    note: str = ""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def blocking(self) -> bool:
        return self.mode == "enforce" and not self.passed

    @property
    def failures(self) -> list[GateResult]:
        return [r for r in self.results if not r.passed]

    @property
    def status(self) -> str:
        if self.mode == "off":
            return "⏸️ off"
        if self.passed:
            return "✅ pass"
        return "❌ fail" if self.mode == "enforce" else "⚠️ fail (warn only)"

    def reason(self, limit: int = 3) -> str:
        """Why the gate failed, in one line: the first failing checks and their values."""
        said = [r.describe() for r in self.failures[:limit]]
        more = len(self.failures) - limit
        return "; ".join(said) + (f"; and {more} more" if more > 0 else "")

    def to_json(self) -> str:
        body = {
            "gate": self.gate,
            "mode": self.mode,
            "passed": self.passed,
            "blocking": self.blocking,
            "note": self.note,
            "results": [r.to_dict() for r in self.results],
        }
        return json.dumps(body, indent=2, default=str) + "\n"

    def to_markdown(self) -> str:
        lines = [f"### Gate `{self.gate}`: {self.status}", "", f"Mode: **{self.mode}**"]
        if self.note:
            lines += ["", self.note]
        if self.mode == "off":
            return "\n".join([*lines, "", "Not run (mode off in params.yaml)."])
        failed, passed = self.failures, [r for r in self.results if r.passed]
        if len(self.results) <= FOLD_PASSED_ABOVE:
            return "\n".join([*lines, "", _table(self.results)])
        lines += ["", f"{len(passed)} of {len(self.results)} checks passed."]
        if failed:
            lines += ["", _table(failed)]
        if passed:
            lines += ["", "<details><summary>Passed checks</summary>", "", _table(passed)]
            lines += ["", "</details>"]
        return "\n".join(lines)


def _table(results: Iterable[GateResult]) -> str:
    rows = ["| | check | metric | value | threshold | details |", "|---|---|---|---:|---:|---|"]
    for r in results:
        mark = "✅" if r.passed else "❌"
        rows.append(
            f"| {mark} | {_cell(r.name)} | {_cell(r.metric)} | {format_value(r.value)} | "
            f"{format_value(r.threshold)} | {_cell(_summary(r.details))} |"
        )
    return "\n".join(rows)


def _summary(details: dict[str, Any]) -> str:
    """The short human part of the details: a message, if any, else scalar entries."""
    if "message" in details:
        return str(details["message"])
    return ", ".join(
        f"{k}={format_value(v)}" for k, v in details.items() if isinstance(v, str | int | float)
    )


def _cell(text: str, limit: int = 300) -> str:
    text = str(text).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    return str(value)


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def exit_code(reports: Iterable[GateReport]) -> int:
    """0 when nothing blocks (passes, warnings, gates off); 1 when an enforced gate failed."""
    return 1 if any(r.blocking for r in reports) else 0


def write_text(path: Path, text: str) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes the file private; reports are for reading
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_reports(report: GateReport, out_dir: Path = REPORTS) -> list[Path]:
    """reports/<gate>.json and reports/<gate>.md, each written atomically."""
    paths = [out_dir / f"{report.gate}.json", out_dir / f"{report.gate}.md"]
    if report.mode == "off":  # an HTML report from an earlier run would now mislead
        (out_dir / f"{report.gate}.html").unlink(missing_ok=True)
    write_text(paths[0], report.to_json())
    write_text(paths[1], report.to_markdown() + "\n")
    return paths
