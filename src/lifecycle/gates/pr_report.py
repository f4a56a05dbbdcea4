"""The pull-request report: every gate's JSON result rendered as one Markdown comment.

Sections: the gate table, challenger vs champion (quality gate), the fairness table (bias gate),
charts GitHub draws itself (Mermaid, no image host), and the failed checks with their details.
A hidden marker lets the comment be found and updated in place instead of posted again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeGuard

from lifecycle.gates.registry import ordered
from lifecycle.gates.result import GateReport, GateResult, format_value

MARKER = "<!-- lifecycle-report -->"
MAX_CHARS = 60_000  # GitHub rejects comments over 65,536 characters


def load_reports(folder: Path) -> list[GateReport]:
    """Every gate report in the folder, in the registry's order (JSON files that are not gate
    reports are skipped)."""
    if not folder.is_dir():
        return []
    gates = {g.gate: g for p in sorted(folder.glob("*.json")) if (g := _read(p)) is not None}
    return [gates[name] for name in ordered(gates)]


def _read(path: Path) -> GateReport | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        results = tuple(GateResult(**r) for r in raw["results"])
        return GateReport(str(raw["gate"]), str(raw["mode"]), results, str(raw.get("note", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def all_passed(gates: list[GateReport]) -> bool:
    return not any(g.blocking for g in gates)


def render(gates: list[GateReport]) -> str:
    """The whole comment: marker first, then each section that has something to show."""
    parts = [MARKER, "## Lifecycle report", _verdict(gates)]
    if gates:
        parts.append(_gate_table(gates))
    by_name = {g.gate: g for g in gates}
    if "quality" in by_name:
        parts.append(_quality_section(by_name["quality"]))
    if "bias" in by_name:
        parts.append(_fairness_section(by_name["bias"]))
    failed = [g for g in gates if g.failures]
    if failed:
        parts.append(_failures(failed))
    text = "\n\n".join(p for p in parts if p) + "\n"
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + "\n\n_(cut short: the full reports are in the run's artifacts)_\n"
    return text


def _verdict(gates: list[GateReport]) -> str:
    if not gates:
        return "No gate reports were found: the gates did not run (see the job log)."
    blocking = [g.gate for g in gates if g.blocking]
    warned = [g.gate for g in gates if g.failures and not g.blocking]
    if blocking:
        return f"**❌ Blocked by: {', '.join(blocking)}.** Nothing will be registered."
    note = f" (warnings: {', '.join(warned)})" if warned else ""
    return f"**✅ Every enforced gate passed{note}.**"


def _gate_table(gates: list[GateReport]) -> str:
    rows = ["| gate | mode | result | checks passed | why |", "|---|---|---|---:|---|"]
    for g in gates:
        passed = len(g.results) - len(g.failures)
        why = g.reason() if g.failures else (g.note or "")
        rows.append(
            f"| {g.gate} | {g.mode} | {g.status} | {passed}/{len(g.results)} | {_cell(why)} |"
        )
    return "\n".join(rows)


def _quality_section(gate: GateReport) -> str:
    rows, names, challenger, champion = [], [], [], []
    for r in gate.results:
        champ = r.details.get("champion")
        delta = r.value - champ if _numeric(r.value) and _numeric(champ) else None
        rows.append(
            f"| {r.metric} | {format_value(r.value)} | {format_value(champ)} | "
            f"{format_value(delta)} | {format_value(r.threshold)} | {_mark(r.passed)} |"
        )
        if _numeric(r.value) and _numeric(champ):
            names.append(r.metric)
            challenger.append(float(r.value))
            champion.append(float(champ))
    header = ["### Challenger vs champion"]
    if gate.note:
        header.append(f"_{gate.note}_")
    if not rows:
        return "\n\n".join(header)
    table = [
        "| metric | challenger | champion | change | threshold | result |",
        "|---|---:|---:|---:|---:|---|",
        *rows,
    ]
    parts = [*header, "\n".join(table)]
    if names:
        parts.append(
            _bar_chart("Challenger (first bar) vs champion", names, [challenger, champion])
        )
    return "\n\n".join(parts)


def _fairness_section(gate: GateReport) -> str:
    checks = [
        "| check | metric | value | threshold | result |",
        "|---|---|---:|---:|---|",
        *(
            f"| {_cell(r.name)} | {r.metric} | {format_value(r.value)} | "
            f"{format_value(r.threshold)} | {_mark(r.passed)} |"
            for r in gate.results
        ),
    ]
    parts = ["### Fairness", "\n".join(checks)]
    groups = _groups(gate)
    if groups:
        rows = [
            "| attribute | group | count | selection rate | TPR | FPR | ROC AUC |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        rows += [
            f"| {a} | {n} | {format_value(g.get('count'))} | "
            f"{format_value(g.get('selection_rate'))} | {format_value(g.get('tpr'))} | "
            f"{format_value(g.get('fpr'))} | {format_value(g.get('roc_auc'))} |"
            for a, n, g in groups
        ]
        parts.append("\n".join(rows))
        found = [(f"{a}={n}", g.get("selection_rate")) for a, n, g in groups]
        rates = [(label, float(v)) for label, v in found if _numeric(v)]
        if rates:
            labels = [label for label, _ in rates]
            parts.append(_bar_chart("Selection rate by group", labels, [[v for _, v in rates]]))
    return "\n\n".join(parts)


def _groups(gate: GateReport) -> list[tuple[str, str, dict[str, Any]]]:
    """(attribute, group, stats) from the results' details["groups"], once per attribute."""
    seen: set[str] = set()
    out: list[tuple[str, str, dict[str, Any]]] = []
    for r in gate.results:
        attribute = str(r.details.get("attribute", r.name))
        groups = r.details.get("groups")
        if attribute in seen or not isinstance(groups, dict | list):
            continue
        seen.add(attribute)
        if isinstance(groups, dict):
            items = [(str(k), v) for k, v in groups.items() if isinstance(v, dict)]
        else:
            items = [
                (str(g.get("group", i)), g) for i, g in enumerate(groups) if isinstance(g, dict)
            ]
        out.extend((attribute, name, stats) for name, stats in items)
    return out


def _bar_chart(title: str, labels: list[str], series: list[list[float]]) -> str:
    """A Mermaid bar chart, which GitHub draws itself (no image host)."""
    top = max(max(s) for s in series)
    axis = 1 if top <= 1 else round(top * 1.1, 3)
    names = ", ".join('"' + label.replace('"', "'") + '"' for label in labels)
    lines = [
        "```mermaid",
        "xychart-beta",
        f'  title "{title}"',
        f"  x-axis [{names}]",
        f'  y-axis "value" 0 --> {axis}',
        *(f"  bar [{', '.join(f'{v:.4f}' for v in s)}]" for s in series),
        "```",
    ]
    return "\n".join(lines)


def _failures(gates: list[GateReport]) -> str:
    blocks = [
        f"<details><summary>{g.gate}: {len(g.failures)} failed check(s)</summary>\n\n"
        f"{g.to_markdown()}\n\n</details>"
        for g in gates
    ]
    return "\n\n".join(["### Failed checks", *blocks])


def _mark(passed: bool) -> str:
    return "✅" if passed else "❌"


def _cell(text: str, limit: int = 200) -> str:
    text = str(text).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _numeric(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
