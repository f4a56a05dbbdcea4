"""`lifecycle audit`: pip-audit's JSON report on the locked dependencies -> summary table, verdict.

Offline, on reports kept in tests/unit/recorded: `pip-audit-offline.json` is what pip-audit 2.10
wrote on a runner that could not reach PyPI (every dependency skipped, exit 0);
`pip-audit-findings.json` is in the shape its JSON format writes (`--format json`, descriptions
and aliases on), with published advisories for old versions of idna, jinja2 and requests.
"""

import json
import shutil
from pathlib import Path

import pytest

from lifecycle import cli
from lifecycle.github import audit

RECORDED = Path(__file__).resolve().parent / "recorded"


@pytest.fixture(autouse=True)
def in_actions(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    return tmp_path / "summary.md"


def run(report: Path) -> int:
    return cli.main(["audit", "--report", str(report)])


def test_findings_fail_with_one_row_each(in_actions, capsys):
    assert run(RECORDED / "pip-audit-findings.json") == 1
    summary = in_actions.read_text()
    assert "❌ 4 known vulnerabilities in 3 of the 5 audited dependencies" in summary
    assert "| `requests` | 2.31.0 | GHSA-9hjg-9r4m-mvj7 | CVE-2024-47081 | 2.32.4 |" in summary
    assert "| `idna` | 3.6 | PYSEC-2024-60 | GHSA-jjg7-2v4v-x38h, CVE-2024-3651 | 3.7 |" in summary
    assert "certifi" not in summary  # clean dependencies are counted, not listed
    assert "- `lifecycle-private-plugin`: Dependency not found on PyPI" in summary
    err = capsys.readouterr().err
    assert err.count("::error title=Vulnerable dependency::") == 4
    assert "::warning title=Dependency not audited::lifecycle-private-plugin" in err
    assert "uv lock --upgrade-package" in err


def test_no_findings_pass(tmp_path, in_actions):
    report = json.loads((RECORDED / "pip-audit-findings.json").read_text())
    for dependency in report["dependencies"]:
        if "vulns" in dependency:
            dependency["vulns"] = []
    path = tmp_path / "clean.json"
    path.write_text(json.dumps(report))
    assert run(path) == 0
    assert "✅ No known vulnerabilities in the 5 audited dependencies." in in_actions.read_text()


def test_a_report_that_audited_nothing_is_an_error_not_a_pass(tmp_path, capsys):
    path = tmp_path / "pip-audit.json"
    shutil.copy(RECORDED / "pip-audit-offline.json", path)
    assert run(path) == 2
    err = capsys.readouterr().err
    assert "audited none of the dependencies" in err and "a2wsgi" in err


def test_missing_or_malformed_report_names_the_file(tmp_path, capsys):
    assert run(tmp_path / "absent.json") == 2
    assert "no pip-audit report" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"dependencies": [{"version": "1.0", "vulns": []}]}')
    assert run(bad) == 2
    err = capsys.readouterr().err
    assert "not a pip-audit JSON report" in err and "Traceback" not in err


def test_table_cells_stay_one_line_and_escape_pipes():
    finding = audit.Finding("pkg", "1.0", "GHSA-x", (), (), "a | b\n" + "long " * 60)
    row = audit.render(audit.Audit((finding,), 1, ())).splitlines()[-1]
    assert row.count(" | ") == 5 and "a \\| b" in row and row.endswith("… |")
    assert "| no fix yet |" in row
