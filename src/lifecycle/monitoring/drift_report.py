"""The drift report in three forms: Markdown (job summary), JSON and a plain HTML page.

reports/drift.json keeps the gate report's shape (gate, mode, passed, results), so the PR report
reads it like any gate, plus the window, the reference, the per-feature table and the timings.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from lifecycle.gates.result import format_value, write_text
from lifecycle.monitoring.drift import DriftOutcome

TITLES = {
    "drift": "⚠️ drift found",
    "quality": "⚠️ feature quality broken (no drift)",
    "ok": "✅ no drift",
    "not-enough-data": "💤 not enough data",
    "off": "⏸️ off",
}
FEATURE_COLUMNS = ("", "feature", "type", "test", "p-value", "PSI", "missing: reference → window")


def context(window: Any, reference: Any, model: Any, notes: list[str]) -> dict[str, Any]:
    """What the report says about its inputs (a Window, a Reference, a ModelInfo or None)."""
    return {
        "window": window.summary(),
        "reference": {
            "version": reference.version if reference else None,
            "rows": len(reference.frame) if reference else 0,
            "source": reference.source if reference else None,
        },
        "model_version": model.version if model else None,
        "notes": [*window.notes, *notes],
    }


def to_json(outcome: DriftOutcome, about: dict[str, Any]) -> str:
    body = json.loads(outcome.report.to_json())
    body.update(
        status=outcome.status,
        drift=outcome.drift,
        drifted_features=outcome.drifted,
        broken_features=outcome.broken,
        features=[f.to_dict() for f in outcome.features],
        timings=outcome.timings,
        **{**about, "notes": [*about["notes"], *outcome.notes]},
    )
    return json.dumps(body, indent=2, default=str) + "\n"


def inputs_lines(about: dict[str, Any]) -> list[str]:
    window, reference = about["window"], about["reference"]
    said = f"Window: **{window['rows']} rows** from `{window['source']}`"
    said += f" ({window['files']} file(s)); corrupt lines skipped: **{window['corrupt_lines']}**"
    if window["unreadable_files"]:
        said += f"; unreadable files skipped: {', '.join(window['unreadable_files'])}"
    if window["invalid_values"]:
        counts = ", ".join(f"{c} {n}" for c, n in window["invalid_values"].items())
        said += f"; values that were not numbers (counted as missing): {counts}"
    lines = [f"- {said}"]
    if reference["version"]:
        lines.append(
            f"- Reference: data version `{reference['version']}`, {reference['rows']} rows "
            f"(`{reference['source']}`)"
        )
    model = about["model_version"]
    lines.append(f"- Model: version {model}" if model else "- Model: none")
    return lines


def to_markdown(outcome: DriftOutcome, about: dict[str, Any]) -> str:
    parts = [f"## Drift check: {TITLES[outcome.status]}", "\n".join(inputs_lines(about))]
    parts.append(outcome.report.to_markdown() if outcome.report.results else _nothing(outcome))
    if outcome.features:
        parts.append("#### Per-feature drift\n\n" + _feature_table(outcome))
    notes = [*about["notes"], *outcome.notes]
    if notes:
        parts.append("Notes:\n\n" + "\n".join(f"- {n}" for n in notes))
    return "\n\n".join(parts) + "\n"


def _nothing(outcome: DriftOutcome) -> str:
    if outcome.status == "off":
        return "gates.drift.mode is off in params.yaml: nothing was checked."
    return outcome.report.note


def _feature_rows(outcome: DriftOutcome) -> list[list[str]]:
    rows = []
    for f in outcome.features:
        marks = ["🔴 drift"] if f.drifted else []
        marks += ["🟠 missing"] if f.missing_broken else []
        missing = f"{f.missing_reference:.1%} → {f.missing_current:.1%}"
        cells = [
            " ".join(marks),
            f.feature,
            f.kind,
            f.test,
            format_value(f.p_value),
            format_value(f.psi),
        ]
        rows.append([*cells, missing])
    return rows


def _feature_table(outcome: DriftOutcome) -> str:
    lines = ["| " + " | ".join(FEATURE_COLUMNS) + " |", "|---|---|---|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in _feature_rows(outcome)]
    return "\n".join(lines)


def to_html(outcome: DriftOutcome, about: dict[str, Any]) -> str:
    e = html.escape
    checks = [["✅" if r.passed else "❌", r.name, r.metric, format_value(r.value),
               format_value(r.threshold), str(r.details.get("message", ""))]
              for r in outcome.report.results]  # fmt: skip
    notes = [*about["notes"], *outcome.notes]
    body = [
        f"<h1>Drift check: {e(TITLES[outcome.status])}</h1>",
        "<ul>"
        + "".join(f"<li>{e(_plain_text(line))}</li>" for line in inputs_lines(about))
        + "</ul>",
        f"<p>Mode: <b>{e(outcome.report.mode)}</b>. {e(outcome.report.note)}</p>",
    ]
    if checks:
        body.append(_html_table(["", "check", "metric", "value", "threshold", "details"], checks))
    if outcome.features:
        body += ["<h2>Per-feature drift</h2>", _html_table(FEATURE_COLUMNS, _feature_rows(outcome))]
    if notes:
        body.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    style = "body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>Drift report</title>"
        f"<style>{style}table{{border-collapse:collapse}}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _plain_text(markdown_line: str) -> str:
    return markdown_line.removeprefix("- ").replace("**", "").replace("`", "")


def _html_table(header: Any, rows: list[list[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{cells}</table>"


def write(outcome: DriftOutcome, about: dict[str, Any], out_dir: Path) -> list[Path]:
    """reports/drift.json, .md and .html, each written atomically."""
    paths = [out_dir / f"drift{suffix}" for suffix in (".json", ".md", ".html")]
    write_text(paths[0], to_json(outcome, about))
    write_text(paths[1], to_markdown(outcome, about))
    write_text(paths[2], to_html(outcome, about))
    return paths
