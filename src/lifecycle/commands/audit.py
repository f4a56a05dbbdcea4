"""Verb `audit`: pip-audit's JSON report on the locked dependencies, as a job-summary table."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = (
    "Render pip-audit's JSON report (on the exported uv.lock) as a Markdown table in the job "
    "summary; exit 1 when a dependency has a known vulnerability."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        type=Path,
        default=Path("reports/pip-audit.json"),
        help="pip-audit's JSON report (pip-audit --format json -o FILE)",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.errors import GateFailed
    from lifecycle.github import actions, audit

    result = audit.load(args.report)
    actions.append_summary(audit.render(result))
    for name, reason in result.skipped:
        actions.warning(f"{name} was not audited: {reason}", title="Dependency not audited")
    if result.findings:
        for finding in result.findings:
            fixed = ", ".join(finding.fix_versions) or "no fixed version yet"
            actions.error(
                f"{finding.package} {finding.version}: {finding.id} (fixed in {fixed})",
                title="Vulnerable dependency",
            )
        found = ", ".join(sorted({f"{f.package} {f.version}" for f in result.findings}))
        raise GateFailed(
            f"{len(result.findings)} known vulnerabilities in the locked dependencies ({found}); "
            "upgrade each to a fixed version with `uv lock --upgrade-package NAME` and commit "
            "uv.lock"
        )
    print(f"no known vulnerabilities in {result.audited} locked dependencies")
    return 0
