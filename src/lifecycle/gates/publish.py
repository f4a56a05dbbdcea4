"""Where gate results go: reports/ (JSON, Markdown), the job summary, annotations, the exit code."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from lifecycle import github
from lifecycle.errors import GateFailed
from lifecycle.gates.result import GateReport, write_reports


def overview(reports: Sequence[GateReport]) -> str:
    rows = ["| gate | mode | result | checks passed |", "|---|---|---|---:|"]
    for r in reports:
        passed = sum(1 for result in r.results if result.passed)
        rows.append(f"| {r.gate} | {r.mode} | {r.status} | {passed}/{len(r.results)} |")
    return "\n".join(rows)


def publish(reports: Sequence[GateReport], out_dir: Path) -> list[Path]:
    """Write each report, show the tables (stdout and the job summary), annotate failures."""
    paths = [path for report in reports for path in write_reports(report, out_dir)]
    markdown = "\n\n".join(["## Gates", overview(reports), *(r.to_markdown() for r in reports)])
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        print(markdown + "\n")  # the job log shows it too; append_summary writes the file
    github.append_summary(markdown)
    for r in reports:
        if r.blocking:
            github.error(r.reason(), title=f"gate {r.gate} failed")
        elif not r.passed and r.mode == "warn":
            github.warning(r.reason(), title=f"gate {r.gate} failed (warn only)")
    return paths


def verdict(reports: Sequence[GateReport], out_dir: Path) -> int:
    """0 when nothing blocks (passes, warnings, gates off); GateFailed naming each blocking gate."""
    blocking = [r for r in reports if r.blocking]
    if not blocking:
        return 0
    said = "\n".join(f"  gate '{r.gate}' (mode enforce): {r.reason()}" for r in blocking)
    raise GateFailed(
        f"{len(blocking)} enforced gate(s) failed:\n{said}\nDetails in {out_dir}/<gate>.md; to "
        "report without blocking, set gates.<gate>.mode to warn in params.yaml."
    )
