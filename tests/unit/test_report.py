"""`lifecycle report`: gate JSON -> one Markdown report, upserted as one PR comment by marker."""

import json

import pytest

from github_stub import BOT, TOKEN, GitHubStub
from lifecycle import cli
from lifecycle.gates import pr_report
from lifecycle.gates.result import GateReport, GateResult, format_value, write_reports


@pytest.fixture
def reports(tmp_path):
    folder = tmp_path / "reports"
    quality = GateReport(
        "quality",
        "enforce",
        (GateResult("roc_auc", "roc_auc", 0.81, 0.79, True, {"champion": 0.80}),),
        note="champion: version 3 (alias prod)",
    )
    bias = GateReport(
        "bias",
        "enforce",
        (
            GateResult(
                "sex: demographic parity",
                "demographic_parity_ratio",
                0.62,
                0.8,
                False,
                {
                    "attribute": "sex",
                    "groups": {
                        "female": {"count": 410, "selection_rate": 0.12, "tpr": 0.4, "fpr": 0.05},
                        "male": {"count": 390, "selection_rate": 0.2, "tpr": 0.55, "fpr": 0.09},
                    },
                },
            ),
        ),
    )
    for report in (quality, bias):
        write_reports(report, folder)
    (folder / "not-a-gate.json").write_text(json.dumps({"something": "else"}))
    return folder


@pytest.fixture
def pull_request(tmp_path, monkeypatch):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    with GitHubStub() as stub:
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
        monkeypatch.setenv("GITHUB_API_URL", stub.url)
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
        yield stub


def test_render_has_marker_tables_and_mermaid_charts(reports):
    text = pr_report.render(pr_report.load_reports(reports))
    assert text.startswith(pr_report.MARKER)
    assert "Blocked by: bias" in text
    assert "| quality | enforce | ✅ pass | 1/1 |" in text
    assert "### Challenger vs champion" in text and "| roc_auc | 0.81 | 0.8 |" in text
    assert f"| sex | female | 410 | 0.12 | 0.4 | 0.05 | {format_value(None)} |" in text
    assert text.count("```mermaid") == 2 and "xychart-beta" in text
    assert "http" not in text  # no image host: charts are drawn by GitHub


def test_locally_it_prints_the_report(reports, capsys, monkeypatch):
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["report", "--reports", str(reports)]) == 0
    assert pr_report.MARKER in capsys.readouterr().out


def test_comment_is_created_once_then_updated_in_place(reports, pull_request):
    stub = pull_request
    stub.state.comments[7] = [{"id": 1, "body": "an unrelated comment", "user": BOT}]
    assert cli.main(["report", "--reports", str(reports)]) == 0
    assert len(stub.state.calls("POST", "/issues/7/comments")) == 1
    mine = [c for c in stub.state.comments[7] if pr_report.MARKER in c["body"]]
    assert len(mine) == 1 and "Blocked by: bias" in mine[0]["body"]

    (reports / "bias.json").unlink()  # the next push fixes the bias problem
    assert cli.main(["report", "--reports", str(reports)]) == 0
    assert len(stub.state.calls("POST", "/issues/7/comments")) == 1  # no second comment
    assert len(stub.state.calls("PATCH", r"/issues/comments/\d+")) == 1
    assert len(stub.state.comments[7]) == 2
    assert "Every enforced gate passed" in stub.state.comments[7][1]["body"]
    assert stub.state.comments[7][0]["body"] == "an unrelated comment"
    assert all(r.authorization == f"Bearer {TOKEN}" for r in stub.state.requests)


def test_marker_found_beyond_the_first_page(reports, pull_request):
    stub = pull_request
    stub.state.comments[7] = [{"id": i, "body": f"c{i}", "user": BOT} for i in range(1, 151)]
    stub.state.comments[7].append({"id": 999, "body": pr_report.MARKER + "\nold", "user": BOT})
    assert cli.main(["report", "--reports", str(reports)]) == 0
    assert not stub.state.calls("POST", "/issues/7/comments")
    assert "Blocked by" in stub.state.comments[7][-1]["body"]


def test_a_marker_in_someone_elses_comment_is_left_alone(reports, pull_request):
    stub = pull_request
    quoted = pr_report.MARKER + "\nI pasted the bot's report here"
    stub.state.comments[7] = [{"id": 5, "body": quoted, "user": {"login": "mallory"}}]
    assert cli.main(["report", "--reports", str(reports)]) == 0
    assert not stub.state.calls("PATCH", r"/issues/comments/\d+")
    assert stub.state.comments[7][0]["body"] == quoted
    assert [c["user"]["login"] for c in stub.state.comments[7]] == ["mallory", BOT["login"]]


def test_a_github_app_login_is_matched_when_named(reports, pull_request, monkeypatch):
    stub = pull_request
    app = {"login": "lifecycle-app[bot]", "type": "Bot"}
    stub.state.comments[7] = [{"id": 5, "body": pr_report.MARKER + "\nold", "user": app}]
    monkeypatch.setenv("LIFECYCLE_BOT_LOGIN", "lifecycle-app[bot]")
    assert cli.main(["report", "--reports", str(reports)]) == 0
    assert stub.state.calls("PATCH", "/issues/comments/5")
    assert not stub.state.calls("POST", "/issues/7/comments")


def test_a_forks_read_only_token_puts_the_report_in_the_summary(
    reports, pull_request, tmp_path, monkeypatch, capsys
):
    stub = pull_request
    stub.state.forbidden += [("POST", "/comments"), ("PATCH", "/comments")]
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(["report", "--reports", str(reports)]) == 0
    assert len(stub.state.calls("POST", "/issues/7/comments")) == 1  # tried, refused
    assert 7 not in stub.state.comments
    assert "Blocked by: bias" in summary.read_text()
    err = capsys.readouterr().err
    assert "::warning title=Report not posted as a comment::" in err and "403" in err


def test_comment_without_permission_fails_with_a_hint(reports, pull_request, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "read-only")
    assert cli.main(["report", "--reports", str(reports)]) == 2
    assert "answered 401" in capsys.readouterr().err


def test_no_reports_says_the_gates_did_not_run(tmp_path):
    text = pr_report.render(pr_report.load_reports(tmp_path / "missing"))
    assert "the gates did not run" in text
