"""`lifecycle alert`: one issue per key, opened once and then updated; workflow dispatch."""

import pytest

from github_stub import TOKEN, GitHubStub
from lifecycle import cli


@pytest.fixture
def github(monkeypatch):
    with GitHubStub() as stub:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
        monkeypatch.setenv("GITHUB_API_URL", stub.url)
        monkeypatch.setenv("GITHUB_REF_NAME", "main")
        for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_RUN_ID", "GH_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        yield stub


def alert(*args: str) -> int:
    return cli.main(["alert", *args])


def test_the_first_alert_opens_an_issue_and_the_next_updates_it(github, tmp_path, monkeypatch):
    report = tmp_path / "drift.md"
    report.write_text("## Drift\n\nincome drifted\n")

    assert alert("--key", "drift", "--title", "Drift", "--body-file", str(report)) == 0
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.test")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    report.write_text("## Drift\n\nincome and age drifted\n")
    assert alert("--key", "drift", "--title", "Drift again", "--body-file", str(report)) == 0

    [issue] = github.state.issues
    assert issue["title"] == "Drift again"
    assert "income and age drifted" in issue["body"]
    assert "<!-- lifecycle-alert:drift -->" in issue["body"]
    assert "https://github.test/acme/credit/actions/runs/42" in issue["body"]
    assert [label["name"] for label in issue["labels"]] == ["lifecycle-drift"]
    [note] = github.state.comments[issue["number"]]
    assert note["body"].startswith("Seen again at")
    assert all(r.authorization == f"Bearer {TOKEN}" for r in github.state.requests)


def test_a_closed_issue_is_not_reused_and_other_keys_get_their_own(github):
    assert alert("--key", "drift", "--title", "Drift", "--body", "one") == 0
    github.state.issues[0]["state"] = "closed"
    assert alert("--key", "drift", "--title", "Drift", "--body", "two") == 0
    assert alert("--key", "incident", "--title", "Check failed", "--body", "three") == 0

    assert [(i["number"], i["state"]) for i in github.state.issues] == [
        (100, "closed"),
        (101, "open"),
        (102, "open"),
    ]
    assert github.state.issues[2]["labels"] == [{"name": "lifecycle-incident"}]


def test_dispatch_starts_the_workflow_with_its_inputs(github):
    code = alert(
        "--key", "drift", "--title", "Drift", "--body", "found",
        "--dispatch", "retrain.yml", "--input", "reason=drift: income",
    )  # fmt: skip

    assert code == 0
    assert github.state.dispatches == [
        {"workflow": "retrain.yml", "ref": "main", "inputs": {"reason": "drift: income"}}
    ]


def test_inputs_without_a_workflow_to_dispatch_dispatch_nothing(github, capsys):
    code = alert("--key", "drift", "--title", "t", "--body", "b", "--input", "reason=x")
    assert code == 0
    assert github.state.dispatches == []
    assert "go nowhere" in capsys.readouterr().out


def test_an_input_given_an_empty_value_is_left_out(github):
    code = alert(
        "--key", "drift", "--title", "t", "--body", "b",
        "--dispatch", "retrain.yml", "--input", "reason=", "--input", "why=drift",
    )  # fmt: skip
    assert code == 0
    assert github.state.dispatches[0]["inputs"] == {"why": "drift"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "Drift!", "--title", "t", "--body", "b"], "lowercase letters"),
        (["--key", "drift", "--title", "t", "--body-file", "nowhere.md"], "not found"),
        (
            [
                "--key",
                "drift",
                "--title",
                "t",
                "--body",
                "b",
                "--dispatch",
                "r.yml",
                "--input",
                "x",
            ],
            "NAME=VALUE",
        ),
    ],
)
def test_bad_usage_is_exit_2_with_a_reason(github, capsys, args, message):
    assert alert(*args) == 2
    assert message in capsys.readouterr().err
    assert github.state.issues == []


def test_a_wrong_token_is_exit_2_and_names_the_token(github, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    assert alert("--key", "drift", "--title", "t", "--body", "b") == 2
    assert "GITHUB_TOKEN" in capsys.readouterr().err
