"""The GitHub workflows, run offline with act against a real `mlflow server` (`make ci`).

One snapshot of the repository (with its default data) and one registry serve the whole module,
in order, as a real repository and its persistent registry would: a deploy without a registry
stops at once, a pull request passes, a bad-data pull request fails, a push to main reaches prod,
retraining registers a challenger and promotes it, and a rollback restores the previous prod
version and is a no-op the second time.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from actrunner import MlflowServer, Result, Snapshot, find_uv, free_port

from github_stub import TOKEN, GitHubStub
from lifecycle.pr_report import MARKER

pytestmark = [pytest.mark.workflows, pytest.mark.integration, pytest.mark.slow]

BAD_ROWS = 30_000  # as many rows as the default data: only the missing values differ
MODEL = "credit-default"


def ci_params() -> dict:
    """Free loopback ports for the deployed servers, and a short load test."""
    return {
        "serving": {"port": free_port()},
        "gates": {"loadtest": {"users": 4, "spawn_rate": 4, "duration_s": 5}},
        "environments": {
            env: {"deploy": {"target": "local", "port": free_port()}}
            for env in ("dev", "staging", "prod")
        },
    }


class CI:
    def __init__(self, snapshot: Snapshot, server: MlflowServer, github: GitHubStub) -> None:
        self.snapshot, self.server, self.github = snapshot, server, github

    def run(self, workflow: str, event: str, payload: dict, registry: bool = True) -> Result:
        variables = {"MLFLOW_TRACKING_URI": self.server.url} if registry else {}
        result = self.snapshot.act(
            workflow,
            event,
            payload,
            variables,
            secrets={"GITHUB_TOKEN": TOKEN},
            env={"GITHUB_API_URL": self.github.url},
        )
        print(f"{workflow} ({event}): exit {result.code} in {result.seconds:.0f} s")
        return result

    def artifact(self, name: str, file: str) -> str:
        run = self.snapshot.run_count
        return (self.snapshot.state / f"artifacts-{run}" / name / file).read_text()

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.server.url, registry_uri=self.server.url)

    def aliases(self) -> dict[str, str]:
        model = self.client().get_registered_model(MODEL)
        return {alias: str(version) for alias, version in model.aliases.items()}

    def history(self) -> list[dict]:
        tags = self.client().get_registered_model(MODEL).tags
        stamped = sorted(
            (int(k.split(".", 1)[1]), v) for k, v in tags.items() if k.startswith("history.")
        )
        return [json.loads(value) for _, value in stamped]

    def served_version(self, environment: str) -> str:
        state = self.snapshot.state / "deployments" / f"{environment}.json"
        port = json.loads(state.read_text())["port"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metadata/", timeout=10) as answer:
            return str(json.load(answer)["model_version"])


@pytest.fixture(scope="module")
def ci(tmp_path_factory):
    if find_uv() is None:
        pytest.fail("uv not found: run `make ci`, which installs it, or put uv on PATH")
    base = tmp_path_factory.mktemp("ci")
    with MlflowServer(base / "mlflow") as server, GitHubStub() as github:
        snapshot = Snapshot.create(base / "repo", base / "state", ci_params())
        try:
            yield CI(snapshot, server, github)
        finally:
            snapshot.clean_up()


def explain(result: Result) -> str:
    return f"act exit {result.code}; last lines of the log:\n" + "\n".join(
        result.log.splitlines()[-60:]
    )


def test_deploy_workflows_stop_at_once_without_a_persistent_registry(ci):
    result = ci.run("main.yml", "push", {"ref": "refs/heads/main"}, registry=False)
    assert result.code != 0
    assert result.job_failed("Registry check"), explain(result)
    assert "MLFLOW_TRACKING_URI is not set" in result.log
    assert "Data, training and gates" not in result.log  # nothing else started


def test_pull_request_passes_on_the_default_data(ci):
    result = ci.run("pull-request.yml", "pull_request", {"pull_request": {"number": 1}})
    assert result.code == 0, explain(result)
    report = ci.artifact("lifecycle-report", "report.md")
    assert report.startswith(MARKER)
    assert "Every enforced gate passed" in report
    [comment] = ci.github.state.comments[1]  # posted to the pull request through the API
    assert comment["body"] == report


def test_pull_request_fails_on_a_bad_data_change(ci):
    snapshot = ci.snapshot
    snapshot.git("checkout", "-q", "-b", "bad-data")
    try:
        snapshot.replace_data(BAD_ROWS, problems="nulls")
        snapshot.commit("data with many missing values")
        # a new push to the same pull request
        result = ci.run("pull-request.yml", "pull_request", {"pull_request": {"number": 1}})
    finally:
        snapshot.git("checkout", "-q", "-f", "main")
    assert result.code != 0
    assert result.job_failed("Data, training and gates"), explain(result)
    assert "Failure - Main Data tests" in result.log
    assert "Failure - Main Train" not in result.log  # nothing trained on bad data
    report = ci.artifact("lifecycle-report", "report.md")
    assert "Blocked by: data" in report
    [comment] = ci.github.state.comments[1]  # the same comment, updated in place
    assert comment["body"] == report


def test_push_to_main_deploys_one_version_through_dev_staging_and_prod(ci):
    result = ci.run("main.yml", "push", {"ref": "refs/heads/main"})
    assert result.code == 0, explain(result)
    aliases = ci.aliases()
    version = aliases["prod"]
    assert aliases["dev"] == aliases["staging"] == version == aliases["candidate"]
    moves = [(e["environment"], e["to"]) for e in ci.history()]
    assert moves == [("dev", version), ("staging", version), ("prod", version)]
    bento = ci.client().get_model_version(MODEL, version).tags["bento.tag"]
    assert bento.startswith(MODEL)
    assert {ci.served_version(env) for env in ("dev", "staging", "prod")} == {version}


def test_retraining_registers_a_challenger_and_promotes_it(ci):
    before = ci.aliases()["prod"]
    payload = {"inputs": {"reason": "weekly retraining", "deploy": "true"}}
    result = ci.run("retrain.yml", "workflow_dispatch", payload)
    assert result.code == 0, explain(result)
    aliases = ci.aliases()
    assert int(aliases["candidate"]) > int(before)
    assert aliases["prod"] == aliases["candidate"]
    assert ci.history()[-1]["reason"] == "weekly retraining"
    assert ci.served_version("prod") == aliases["prod"]


def test_rollback_restores_the_previous_prod_version_and_a_rerun_changes_nothing(ci):
    current = ci.aliases()["prod"]
    previous = [e for e in ci.history() if e["environment"] == "prod"][-1]["from"]
    payload = {"inputs": {"environment": "prod", "version": "", "reason": "bad release"}}
    result = ci.run("rollback.yml", "workflow_dispatch", payload)
    assert result.code == 0, explain(result)
    assert ci.aliases()["prod"] == previous != current
    last = ci.history()[-1]
    assert (last["action"], last["from"], last["to"]) == ("rollback", current, previous)
    assert (last["actor"], last["reason"]) == ("ci-tester", "bad release")
    assert ci.served_version("prod") == previous
    entries = len(ci.history())

    again = ci.run("rollback.yml", "workflow_dispatch", payload)
    assert again.code == 0, explain(again)
    assert "nothing changed" in again.log
    assert len(ci.history()) == entries
    assert ci.aliases()["prod"] == previous
    assert ci.served_version("prod") == previous
