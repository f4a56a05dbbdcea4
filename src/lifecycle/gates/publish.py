"""Where gate results go, for every gate and verb: reports/ (JSON, Markdown), the job summary,
the terminal, annotations, the exit code.

The terminal gets a compact table (each gate's mode, passed checks counted, result; each failed
check in full, under its gate) and where the full reports are; ``--verbose`` prints the full
Markdown instead. The full Markdown always goes to reports/ and, in GitHub Actions, to the job
summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lifecycle.errors import GateFailed
from lifecycle.gates.result import GateReport, write_reports
from lifecycle.github import actions

COLUMNS = ("gate", "mode", "checks passed", "result")


def overview(reports: Sequence[GateReport]) -> str:
    rows = ["| gate | mode | result | checks passed |", "|---|---|---|---:|"]
    for r in reports:
        passed = sum(1 for result in r.results if result.passed)
        rows.append(f"| {r.gate} | {r.mode} | {r.status} | {passed}/{len(r.results)} |")
    return "\n".join(rows)


def compact(reports: Sequence[GateReport], out_dir: Path) -> str:
    """What the terminal shows by default: one row per gate, its note and its failed checks in
    full below it, then where the full reports are."""
    rows = [COLUMNS, *((r.gate, r.mode, _passed(r), r.status) for r in reports)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]

    def line(row: tuple[str, ...]) -> str:  # the result last: emoji widths differ by terminal
        return "  ".join([*(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)), row[-1]])

    lines = [line(COLUMNS)]
    for report, row in zip(reports, rows[1:], strict=True):
        lines += [line(row), *_below(report)]
    shown = [str(out_dir / f"{r.gate}.md") for r in reports if r.mode != "off"]
    if shown:
        lines.append(f"full report: {', '.join(shown)} (or --verbose)")
    return "\n".join(lines)


def _passed(report: GateReport) -> str:
    if report.mode == "off":
        return "-"
    return f"{sum(1 for r in report.results if r.passed)} of {len(report.results)}"


def _below(report: GateReport) -> list[str]:
    """A gate's note and failed checks, indented under its row; each check whole."""
    said = [f"note: {report.note}"] if report.note else []
    said += [f"❌ {result.describe()}" for result in report.failures]
    return ["    " + line.replace("\n", "\n      ") for line in said]


def publish(
    reports: Sequence[GateReport],
    out_dir: Path,
    markdown: str | None = None,
    written: bool = False,
    verbose: bool = False,
) -> list[Path]:
    """Write each report, print the compact table (or with ``verbose`` the full Markdown), add
    the full Markdown to the job summary, annotate failures, set the step output ``passed``
    (false when an enforced gate failed).

    A gate whose domain writes a fuller report (drift) passes ``written=True`` and its own
    ``markdown`` for the summary."""
    paths = [] if written else [p for report in reports for p in write_reports(report, out_dir)]
    markdown = markdown or "\n\n".join(
        ["## Gates", overview(reports), *(r.to_markdown() for r in reports)]
    )
    print((markdown if verbose else compact(reports, out_dir)) + "\n", flush=True)
    actions.append_summary(markdown, echo=False)
    for r in reports:
        if r.blocking:
            actions.error(r.reason(), title=f"gate {r.gate} failed")
        elif not r.passed and r.mode == "warn":
            actions.warning(r.reason(), title=f"gate {r.gate} failed (warn only)")
    actions.set_output("passed", str(not any(r.blocking for r in reports)).lower())
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
