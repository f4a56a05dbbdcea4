"""`lifecycle deploy` with the `command` target: the user's command, then the alias, then GitHub.

A real model is trained and registered on a temporary embedded store; the Bento tag that
`lifecycle build` would record is set on the version directly (building a Bento is the serving
tests' business; the `local` target runs end to end in the workflow tests).
"""

import json
import sys

import pytest

from github_stub import TOKEN, GitHubStub
from lifecycle import cli, registry
from lifecycle.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # trains a model; stub API on loopback
BENTO = "credit-default:20260101abcdef"
RECORDER = """
import json, os, sys
with open(os.environ["DEPLOY_RECORD"], "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(int(os.environ.get("DEPLOY_EXIT", "0")))
"""


@pytest.fixture
def deployable(params_file, tmp_path, monkeypatch, tracking):
    """A registered version with a recorded Bento, and params whose environments run a command."""
    from mlflow import MlflowClient

    from lifecycle.train import train

    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    monkeypatch.setenv("DEPLOY_RECORD", str(tmp_path / "deploys.jsonl"))
    command = f"{sys.executable} {script} {{bento_tag}} {{image}} {{environment}} {{version}}"
    environments = {
        e: {"deploy": {"target": "command", "command": command}} for e in ("dev", "prod")
    }
    params = params_file({"environments": environments})
    settings = load_settings(params)
    version = registry.register(settings, train(settings).run_id)
    MlflowClient(tracking_uri=tracking, registry_uri=tracking).set_model_version_tag(
        settings.model.name, version, "bento.tag", BENTO
    )
    return settings, params, version, tmp_path / "deploys.jsonl"


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
    assert registry.aliases(settings)["prod"] == version
    [entry] = registry.history(settings, "prod")
    assert (entry["to"], entry["reason"]) == (version, "first release")
    assert deployment["environment"] == "prod" and deployment["ref"] == "a" * 40
    assert deployment["payload"]["model_version"] == version
    assert deployment["payload"]["bento_tag"] == BENTO
    assert status["state"] == "success" and status["deployment_id"] == deployment["id"]


def test_redeploying_the_same_version_records_no_second_move(deployable):
    settings, params, version, _ = deployable
    assert deploy(params, "--env", "dev", "--version", version) == 0
    assert deploy(params, "--env", "dev", "--version", "candidate") == 0
    assert len(registry.history(settings, "dev")) == 1


def test_a_failed_command_moves_no_alias(deployable, monkeypatch, capsys):
    settings, params, version, _ = deployable
    monkeypatch.setenv("DEPLOY_EXIT", "3")
    assert deploy(params, "--env", "dev", "--version", version) == 2
    assert "exited with 3" in capsys.readouterr().err
    assert "dev" not in registry.aliases(settings)
    assert registry.history(settings, "dev") == []


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
