"""`lifecycle rollback`: redeploy a version the environment served, smoke-test, then move back.

Versions are real registered versions (conftest.py) deployed with the recording command target
(deploy_helpers.py); the registry is a temporary embedded store and GitHub a stand-in on loopback
(tests/github_stub.py) that answers the run's review history.
"""

import pytest
from deploy_helpers import BENTO, another_version, recorded

from github_stub import TOKEN, GitHubStub
from lifecycle import cli
from lifecycle.registry import aliases

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # trains a model; stub API on loopback
BENTO_2 = "credit-default:20260202abcdef"


def run(params, verb, *extra):
    return cli.main([verb, "--params", str(params), *extra])


@pytest.fixture
def prod_served_1_then_2(deployable):
    """Prod deployed version 1, then version 2: (settings, params, record)."""
    settings, params, first, record = deployable
    second = another_version(settings.model.name, first, BENTO_2)
    for version in (first, second):
        assert run(params, "deploy", "--env", "prod", "--version", version) == 0
    assert (first, second) == ("1", "2")
    return settings, params, record


def test_rollback_redeploys_the_previous_version_then_moves_the_alias(prod_served_1_then_2, capsys):
    settings, params, record = prod_served_1_then_2

    assert run(params, "rollback", "--env", "prod", "--reason", "p95 too high") == 0

    assert recorded(record)[-1] == [BENTO, "", "prod", "1"]  # version 1's Bento, redeployed
    assert aliases.current(settings)["prod"] == "1"
    last = aliases.history(settings, "prod")[-1]
    assert (last["action"], last["from"], last["to"]) == ("rollback", "2", "1")
    assert last["reason"] == "p95 too high"
    assert "rollback: prod (alias 'prod') -> version 1 (was version 2)" in capsys.readouterr().out


def test_a_rerun_changes_nothing_and_deploys_nothing(prod_served_1_then_2, capsys):
    settings, params, record = prod_served_1_then_2
    assert run(params, "rollback", "--env", "prod") == 0
    deploys, entries = len(recorded(record)), len(aliases.history(settings, "prod"))

    assert run(params, "rollback", "--env", "prod") == 0
    assert run(params, "rollback", "--env", "prod", "--to", "1") == 0

    assert "nothing changed" in capsys.readouterr().out
    assert len(recorded(record)) == deploys
    assert len(aliases.history(settings, "prod")) == entries
    assert aliases.current(settings)["prod"] == "1"


def test_a_failed_redeploy_leaves_the_alias_and_the_history_as_they_were(
    prod_served_1_then_2, monkeypatch, capsys
):
    settings, params, record = prod_served_1_then_2
    before = aliases.history(settings, "prod")
    monkeypatch.setenv("DEPLOY_EXIT", "1")

    assert run(params, "rollback", "--env", "prod", "--reason", "bad") == 2

    err = capsys.readouterr().err
    assert "deploy command exited with 1" in err and "alias was not moved" in err
    assert "Traceback" not in err
    assert recorded(record)[-1] == [BENTO, "", "prod", "1"]  # it was tried
    assert aliases.current(settings)["prod"] == "2"
    assert aliases.history(settings, "prod") == before


@pytest.mark.parametrize("target", ["3", "candidate", "v9"])
def test_a_version_prod_never_served_is_refused_naming_those_it_may_go_back_to(
    prod_served_1_then_2, capsys, target
):
    settings, params, record = prod_served_1_then_2
    another_version(settings.model.name, "1", "credit-default:20260303abcdef")  # never deployed
    deploys, entries = len(recorded(record)), len(aliases.history(settings))

    assert run(params, "rollback", "--env", "prod", "--to", target) == 2

    err = capsys.readouterr().err
    assert f"prod has never served '{target}'" in err and "may roll back to version 1" in err
    assert len(recorded(record)) == deploys
    assert len(aliases.history(settings)) == entries
    assert aliases.current(settings)["prod"] == "2"


AUDIT = {
    "GITHUB_SERVER_URL": "https://github.example",
    "GITHUB_REPOSITORY": "acme/credit",
    "GITHUB_RUN_ID": "4242",
    "GITHUB_ACTOR": "ci-bot",
    "GITHUB_TRIGGERING_ACTOR": "ana",
}


def test_every_move_records_actor_run_and_prod_approver_and_history_shows_them(
    deployable, monkeypatch, capsys
):
    settings, params, first, _ = deployable
    second = another_version(settings.model.name, first, BENTO_2)
    for name, value in AUDIT.items():
        monkeypatch.setenv(name, value)
    with GitHubStub() as github:
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        github.state.approvals[4242] = [
            {"state": "rejected", "environments": [{"name": "prod"}], "user": {"login": "eve"}},
            {"state": "approved", "environments": [{"name": "prod"}], "user": {"login": "bo"}},
        ]
        for version in (first, second):
            assert run(params, "deploy", "--env", "prod", "--version", version,
                       "--github-deployment", "false") == 0  # fmt: skip
        assert run(params, "deploy", "--env", "dev", "--version", first) == 0
        assert run(params, "rollback", "--env", "prod", "--github-deployment", "false") == 0
        assert len(github.state.calls("GET", r"/actions/runs/4242/approvals$")) == 4
        assert len(github.state.deployments) == 1  # only the dev deploy asked for one

    url = "https://github.example/acme/credit/actions/runs/4242"
    entries = aliases.history(settings)
    assert [(e["environment"], e["action"], e["approver"]) for e in entries] == [
        ("prod", "promote", "bo"), ("prod", "promote", "bo"), ("dev", "promote", ""),
        ("prod", "rollback", "bo"),
    ]  # fmt: skip
    assert {(e["actor"], e["ci_run_url"]) for e in entries} == {("ana", url)}
    capsys.readouterr()
    assert run(params, "history", "--env", "prod") == 0
    assert f"| rollback | prod | 2 | 1 | ana |  | bo | {url} |" in capsys.readouterr().out


def test_without_a_token_the_approver_is_empty_and_the_move_says_why(
    deployable, monkeypatch, capsys
):
    settings, params, version, _ = deployable
    for name, value in AUDIT.items():
        monkeypatch.setenv(name, value)

    assert run(params, "deploy", "--env", "prod", "--version", version) == 0

    assert "approver of prod is not recorded: no GitHub token" in capsys.readouterr().err
    [entry] = aliases.history(settings, "prod")
    assert entry["approver"] == "" and entry["actor"] == "ana"


def test_when_the_approvals_cannot_be_read_the_move_happens_and_says_why(
    deployable, monkeypatch, capsys
):
    settings, params, version, _ = deployable
    for name, value in AUDIT.items():
        monkeypatch.setenv(name, value)
    with GitHubStub() as github:  # a job without `actions: read`: GitHub answers 403
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        github.state.forbidden.append(("GET", r"/actions/runs/\d+/approvals$"))
        github.state.approvals[4242] = [
            {"state": "approved", "environments": [{"name": "prod"}], "user": {"login": "bo"}}
        ]

        assert run(params, "deploy", "--env", "prod", "--version", version,
                   "--github-deployment", "false") == 0  # fmt: skip

    err = capsys.readouterr().err
    assert "approver of prod is not recorded" in err and "answered 403" in err
    [entry] = aliases.history(settings, "prod")
    assert (entry["approver"], entry["actor"]) == ("", "ana")
    assert aliases.current(settings)["prod"] == version
