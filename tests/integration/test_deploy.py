"""`lifecycle deploy` with the `command` target: the user's command, then the alias, then GitHub.

The fixtures (conftest.py) train and register a real model on a temporary embedded store and set
the Bento tag that `lifecycle build` would record on the version directly (building and fetching
a Bento is the serving tests' business: tests/service/test_archive.py).
"""

import json

import pytest
from deploy_helpers import BENTO, recorded

from github_stub import TOKEN, GitHubStub
from lifecycle import cli
from lifecycle.registry import aliases

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # trains a model; stub API on loopback


def deploy(params, *extra):
    return cli.main(["deploy", "--params", str(params), *extra])


def test_runs_the_command_moves_the_alias_and_records_a_github_deployment(deployable, monkeypatch):
    settings, params, version, record = deployable
    with GitHubStub() as github:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("GITHUB_SHA", "a" * 40)
        code = deploy(params, "--env", "prod", "--version", version, "--image", "ghcr.io/a/b:1",
                      "--reason", "first release")  # fmt: skip
        assert code == 0
        [deployment] = github.state.deployments
        [status] = github.state.statuses
    assert json.loads(record.read_text()) == [BENTO, "ghcr.io/a/b:1", "prod", version]
    assert aliases.current(settings)["prod"] == version
    [entry] = aliases.history(settings, "prod")
    assert (entry["to"], entry["reason"]) == (version, "first release")
    assert deployment["environment"] == "prod" and deployment["ref"] == "a" * 40
    assert deployment["payload"]["model_version"] == version
    assert deployment["payload"]["bento_tag"] == BENTO
    assert status["state"] == "success" and status["deployment_id"] == deployment["id"]


def test_redeploying_the_same_version_records_no_second_move(deployable):
    settings, params, version, _ = deployable
    assert deploy(params, "--env", "dev", "--version", version) == 0
    assert deploy(params, "--env", "dev", "--version", "candidate") == 0
    assert len(aliases.history(settings, "dev")) == 1


def test_a_failed_command_moves_no_alias(deployable, monkeypatch, capsys):
    settings, params, version, _ = deployable
    monkeypatch.setenv("DEPLOY_EXIT", "3")
    assert deploy(params, "--env", "dev", "--version", version) == 2
    assert "exited with 3" in capsys.readouterr().err
    assert "dev" not in aliases.current(settings)
    assert aliases.history(settings, "dev") == []


def test_a_version_without_a_bento_is_refused(deployable, capsys):
    from mlflow import MlflowClient

    settings, params, version, record = deployable
    MlflowClient().delete_model_version_tag(settings.model.name, version, "bento.tag")
    assert deploy(params, "--env", "dev", "--version", version) == 2
    assert f"lifecycle build --version {version}" in capsys.readouterr().err
    assert not record.exists()


def test_unknown_environment_is_a_usage_error(deployable, capsys):
    _, params, version, _ = deployable
    assert deploy(params, "--env", "qa", "--version", version) == 2
    assert "unknown environment 'qa'" in capsys.readouterr().err


def test_the_image_recorded_on_the_version_is_what_the_command_deploys(deployable, capsys):
    _, params, version, record = deployable
    image = "ghcr.io/acme/credit@sha256:" + "ab" * 32
    build = ["build", "--params", str(params), "--version", version, "--record-image"]
    assert cli.main([*build, "ghcr.io/acme/credit:1"]) == 2  # a tag can be moved: refused
    assert "not a digest reference" in capsys.readouterr().err
    assert cli.main([*build, image]) == 0
    assert deploy(params, "--env", "dev", "--version", version) == 0
    assert recorded(record) == [[BENTO, image, "dev", version]]
