"""`lifecycle environments` applies .github/environments.yml through GitHub's REST API."""

from pathlib import Path

import pytest

from github_stub import TOKEN, GitHubStub
from lifecycle import cli

ROOT = Path(__file__).resolve().parents[2]
FILE = """
environments:
  dev: {branches: [main]}
  staging: {branches: [main, "release/*"], wait_timer: 5}
  prod:
    reviewers: [{user: "@owner"}, {user: alice}, {team: acme/reviewers}]
    prevent_self_review: true
    branches: protected
  sandbox: {}
"""


@pytest.fixture
def github(monkeypatch):
    with GitHubStub() as stub:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        yield stub


def apply(stub, path):
    return cli.main(["environments", "--file", str(path), "--api-url", stub.url])


def test_applies_reviewers_wait_timer_and_branch_policies(github, tmp_path):
    path = tmp_path / "environments.yml"
    path.write_text(FILE)
    assert apply(github, path) == 0
    envs = github.state.environments
    assert set(envs) == {"dev", "staging", "prod", "sandbox"}
    assert envs["prod"]["reviewers"] == [
        {"type": "User", "id": 7},
        {"type": "User", "id": 101},
        {"type": "Team", "id": 555},
    ]
    assert envs["prod"]["prevent_self_review"] is True
    assert envs["prod"]["deployment_branch_policy"] == {
        "protected_branches": True,
        "custom_branch_policies": False,
    }
    assert envs["staging"]["wait_timer"] == 5
    assert envs["sandbox"]["deployment_branch_policy"] is None
    assert envs["dev"]["deployment_branch_policy"]["custom_branch_policies"] is True
    names = {env: sorted(p["name"] for p in ps) for env, ps in github.state.policies.items()}
    assert names == {"dev": ["main"], "staging": ["main", "release/*"]}
    assert all(r.authorization == f"Bearer {TOKEN}" for r in github.state.requests)


def test_applying_twice_changes_nothing_and_removes_stale_policies(github, tmp_path):
    path = tmp_path / "environments.yml"
    path.write_text(FILE)
    assert apply(github, path) == 0
    first = {env: list(ps) for env, ps in github.state.policies.items()}
    assert apply(github, path) == 0
    assert github.state.policies == first  # no duplicate policy created
    path.write_text("environments:\n  staging: {branches: [main]}\n")
    assert apply(github, path) == 0
    assert [p["name"] for p in github.state.policies["staging"]] == ["main"]
    assert len(github.state.calls("DELETE", "deployment-branch-policies")) == 1


def test_the_committed_file_is_valid():
    assert (
        cli.main(["environments", "--dry-run", "--file", str(ROOT / ".github/environments.yml")])
        == 0
    )


def test_unknown_key_names_the_key(tmp_path, capsys):
    path = tmp_path / "environments.yml"
    path.write_text("environments:\n  prod: {reviewer: [{user: alice}]}\n")
    assert cli.main(["environments", "--dry-run", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "prod.reviewer" in err and str(path) in err


def test_unknown_reviewer_says_what_github_answered(github, tmp_path, capsys):
    path = tmp_path / "environments.yml"
    path.write_text("environments:\n  prod: {reviewers: [{user: nobody}]}\n")
    assert apply(github, path) == 2
    assert "/users/nobody answered 404" in capsys.readouterr().err
    assert not github.state.calls("PUT", "environments/prod")


def test_bad_token_is_a_clear_error(github, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    path = tmp_path / "environments.yml"
    path.write_text(FILE)
    assert apply(github, path) == 2
    assert "answered 401" in capsys.readouterr().err


def test_no_token_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    path = tmp_path / "environments.yml"
    path.write_text(FILE)
    assert cli.main(["environments", "--file", str(path), "--repository", "a/b"]) == 2
    assert "no GitHub token" in capsys.readouterr().err


def check(stub, name="prod"):
    return cli.main(["environments", "--check", name, "--api-url", stub.url])


def test_check_passes_when_prod_needs_a_reviewer_and_only_main_deploys(github, tmp_path):
    path = tmp_path / "environments.yml"
    path.write_text("environments:\n  prod: {reviewers: [{user: alice}], branches: [main]}\n")
    assert apply(github, path) == 0
    assert check(github) == 0
    assert github.state.calls("GET", r"/repos/acme/credit/environments/prod$")
    assert not github.state.calls("PUT", "environments")[1:]  # the check changes nothing


def test_check_fails_when_prod_has_no_reviewers(github, tmp_path, capsys):
    path = tmp_path / "environments.yml"
    path.write_text("environments:\n  prod: {branches: [main]}\n")
    assert apply(github, path) == 0
    assert check(github) == 1
    err = capsys.readouterr().err
    assert "prod has no required reviewers" in err and "Nothing was deployed" in err


@pytest.mark.parametrize("branches", ["all", "['*']"])
def test_check_fails_when_any_branch_may_deploy(github, tmp_path, capsys, branches):
    path = tmp_path / "environments.yml"
    path.write_text(
        f"environments:\n  prod: {{reviewers: [{{user: alice}}], branches: {branches}}}\n"
    )
    assert apply(github, path) == 0
    assert check(github) == 1
    err = capsys.readouterr().err
    assert "prod lets any branch" in err and "no required reviewers" not in err


def test_check_of_a_missing_environment_says_how_to_create_it(github, capsys):
    assert check(github, "production") == 2
    err = capsys.readouterr().err
    assert "environments/production answered 404" in err
    assert "`lifecycle environments`" in err and "Traceback" not in err


def test_check_without_permission_names_the_permission(github, capsys):
    github.state.forbidden.append(("GET", "/environments/"))
    assert check(github) == 2
    assert "actions: read" in capsys.readouterr().err
