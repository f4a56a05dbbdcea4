"""The CI's dependency audit: pip-audit's JSON report on the locked dependencies, as findings.

The workflow exports uv.lock as a requirements file and runs pip-audit on it (`--format json`).
Its report is ``{"dependencies": [...], "fixes": [...]}``: each dependency has ``name`` and
``version`` and a list of ``vulns`` (``id``, ``fix_versions``, ``aliases``, ``description``), or
only ``name`` and ``skip_reason`` when pip-audit could not audit it. pip-audit exits 0 even when
it skipped every dependency, so a report that audited nothing is an error here, not a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.errors import DataError

DESCRIPTION_CHARS = 160  # a finding's description is cut to this in the table


@dataclass(frozen=True)
class Finding:
    """One known vulnerability in one locked dependency."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Audit:
    """What one pip-audit report says: findings, how many were audited, and what was skipped."""

    findings: tuple[Finding, ...]
    audited: int
    skipped: tuple[tuple[str, str], ...]  # (package, pip-audit's reason)


def load(path: Path) -> Audit:
    """Read pip-audit's JSON report; DataError when it is missing, malformed or audited nothing."""
    if not path.is_file():
        raise DataError(
            f"{path}: no pip-audit report; pip-audit did not finish (see its output above)"
        )
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        audit = parse(report)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(
            f"{path}: not a pip-audit JSON report ({exc}); run pip-audit with --format json"
        ) from None
    if audit.audited == 0:
        reasons = "; ".join(f"{name}: {why}" for name, why in audit.skipped[:3]) or "empty report"
        raise DataError(
            f"{path}: pip-audit audited none of the dependencies ({reasons}); check that the "
            "runner reaches PyPI's vulnerability service and that the requirements are pinned"
        )
    return audit


def parse(report: dict[str, Any]) -> Audit:
    findings: list[Finding] = []
    skipped: list[tuple[str, str]] = []
    audited = 0
    for dependency in report["dependencies"]:
        if "skip_reason" in dependency:
            skipped.append((dependency["name"], dependency["skip_reason"]))
            continue
        audited += 1
        name, version = str(dependency["name"]), str(dependency["version"])
        findings.extend(_finding(name, version, vuln) for vuln in dependency["vulns"])
    return Audit(tuple(findings), audited, tuple(skipped))


def _finding(name: str, version: str, vuln: dict[str, Any]) -> Finding:
    return Finding(
        package=name,
        version=version,
        id=vuln["id"],
        aliases=tuple(vuln.get("aliases") or ()),
        fix_versions=tuple(vuln.get("fix_versions") or ()),
        description=" ".join(str(vuln.get("description") or "").split()),
    )


def render(audit: Audit) -> str:
    """The job summary: a verdict line, one table row per finding, and what was skipped."""
    lines = ["### Dependency audit (pip-audit on uv.lock)", ""]
    if audit.findings:
        packages = len({f.package for f in audit.findings})
        lines += [
            f"❌ {len(audit.findings)} known vulnerabilities in {packages} of the "
            f"{audit.audited} audited dependencies. Upgrade to a fixed version "
            "(`uv lock --upgrade-package NAME`) and commit uv.lock.",
            "",
            "| package | version | vulnerability | aliases | fixed in | description |",
            "|---|---|---|---|---|---|",
        ]
        lines += [_row(f) for f in audit.findings]
    else:
        lines.append(f"✅ No known vulnerabilities in the {audit.audited} audited dependencies.")
    if audit.skipped:
        lines += ["", f"Not audited ({len(audit.skipped)}):", ""]
        lines += [f"- `{name}`: {_cell(why)}" for name, why in audit.skipped]
    return "\n".join(lines)


def _row(finding: Finding) -> str:
    description = finding.description
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 1].rstrip() + "…"
    cells = (
        f"`{finding.package}`",
        finding.version,
        finding.id,
        ", ".join(finding.aliases) or "-",
        ", ".join(finding.fix_versions) or "no fix yet",
        _cell(description) or "-",
    )
    return "| " + " | ".join(cells) + " |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
