"""The GitHub workflows, run offline with act against a real `mlflow server` (`make ci`).

One snapshot of the repository (with the tests' settings and generated data) and one registry
(a real `mlflow server` with MLflow's basic-auth app: the checks log in as a read-only user, the
registry and deploy jobs as the writer, and a pull request gets no writer credentials at all)
serve the whole module, in order, as a real repository and its persistent registry would: a
deploy without a registry stops at once, a pull request passes, a bad-data pull request fails, a
push to main reaches prod, retraining registers a challenger and promotes it, a rollback restores
the previous prod version and is a no-op the second time, drifted traffic to prod opens one drift
issue and dispatches retraining, a failed drift run opens an incident issue, and `history` and
`dora` show what the runs did. Last, another repository uses the composite actions by reference.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from actrunner import BIN, DEFAULT_ROWS, Result, Snapshot, find_uv

from fixtures import CONTRACT, write_params
from fixtures.mlflow_server import ADMIN, MlflowServer, free_port
from github_stub import TOKEN, GitHubStub
from lifecycle.data.generator import DRIFTED_COLUMNS, generate
from lifecycle.gates.pr_report import MARKER
from lifecycle.settings import load_settings

pytestmark = [pytest.mark.workflows, pytest.mark.integration, pytest.mark.slow]

BAD_ROWS = 30_000  # as many rows as the default data: only the missing values differ
MODEL = "credit-default"
READER, READER_PASSWORD = "reader", "reader-password-1"  # the checks' read-only registry user


def ci_params(predictions: Path) -> dict:
    """Free loopback ports for the deployed servers, a short load test, and one prediction log
    outside the runs' workspaces (as a real deployment would log to a bucket)."""
    return {
        "serving": {"port": free_port(), "prediction_log": {"path": str(predictions)}},
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
        """act one workflow. The registry requires a login: the read-only user's secrets always
        (the checks' registry-read environment), the writer's except on a pull request (GitHub
        gives a pull request no environment restricted to main, so it must pass without)."""
        variables = {"MLFLOW_TRACKING_URI": self.server.url} if registry else {}
        secrets = {"GITHUB_TOKEN": TOKEN, "MLFLOW_READONLY_USERNAME": READER,
                   "MLFLOW_READONLY_PASSWORD": READER_PASSWORD}  # fmt: skip
        if event != "pull_request":
            secrets.update(writer_credentials(self.server))
        result = self.snapshot.act(
            workflow, event, payload, variables, secrets=secrets,
            env={"GITHUB_API_URL": self.github.url},
        )  # fmt: skip
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

    def served_url(self, environment: str) -> str:
        state = self.snapshot.state / "deployments" / f"{environment}.json"
        return f"http://127.0.0.1:{json.loads(state.read_text())['port']}"

    def served_version(self, environment: str) -> str:
        url = f"{self.served_url(environment)}/metadata/"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return str(json.load(answer)["model_version"])
        except urllib.error.HTTPError as exc:  # say what the server said and logged
            state = self.snapshot.state / "deployments" / f"{environment}.json"
            log = Path(json.loads(state.read_text()).get("log") or "/nonexistent")
            tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
            body = exc.read().decode(errors="replace")[:2000]
            raise AssertionError(f"{url}: {exc}\n{body}\n--- {log}:\n{tail}") from exc

    def send_traffic(self, environment: str, frame) -> None:
        """POST the frame's feature columns to the environment's server, 200 rows a request."""
        settings = load_settings(self.snapshot.folder / "params.yaml")
        rows = frame[list(settings.data.features.all)].to_dict("records")
        rows = [{k: _plain(v) for k, v in row.items()} for row in rows]
        for start in range(0, len(rows), 200):
            body = json.dumps({"records": rows[start : start + 200]}).encode()
            request = urllib.request.Request(
                f"{self.served_url(environment)}/predict_batch",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as answer:
                assert answer.status == 200

    def cli(self, *args: str) -> str:
        """`lifecycle <args>` in the snapshot, against the workflows' registry."""
        env = {"MLFLOW_TRACKING_URI": self.server.url, "PATH": str(BIN),
               **writer_credentials(self.server)}  # fmt: skip
        done = subprocess.run(
            [str(BIN / "lifecycle"), *args], cwd=self.snapshot.folder, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def writer_credentials(server: MlflowServer) -> dict[str, str]:
    """The registry's writing user (the deploy and registry environments' secrets)."""
    return {"MLFLOW_TRACKING_USERNAME": ADMIN, "MLFLOW_TRACKING_PASSWORD": server.admin_password}


def _plain(value):
    """JSON-ready: NaN is null, numpy scalars are Python numbers."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


@pytest.fixture(scope="module")
def ci(tmp_path_factory):
    if find_uv() is None:
        pytest.fail("uv not found: run `make ci`, which installs it, or put uv on PATH")
    base = tmp_path_factory.mktemp("ci")
    with (
        MlflowServer(base / "mlflow", auth=True) as server,
        GitHubStub() as github,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        server.create_user(READER, READER_PASSWORD)
        for name, value in writer_credentials(server).items():  # the test's own reads
            monkeypatch.setenv(name, value)
        params = ci_params(base / "state" / "predictions")
        snapshot = Snapshot.create(base / "repo", base / "state", params)
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
    assert "Success - Main DORA metrics" in result.log  # the run's summary shows them


def test_retraining_registers_a_challenger_and_promotes_it(ci):
    before = ci.aliases()["prod"]
    ci.snapshot.replace_data(DEFAULT_ROWS, seed=43)  # this week's data
    ci.snapshot.commit("new data")
    payload = {"inputs": {"reason": "weekly retraining", "deploy": "true"}}
    result = ci.run("retrain.yml", "workflow_dispatch", payload)
    assert result.code == 0, explain(result)
    assert "changed since version" in result.log and ": data" in result.log
    aliases = ci.aliases()
    assert int(aliases["candidate"]) > int(before)
    assert aliases["prod"] == aliases["candidate"]
    assert ci.history()[-1]["reason"] == "weekly retraining"
    assert ci.served_version("prod") == aliases["prod"]

    # the same data, settings, code and packages again: nothing to retrain on, nothing registered
    again = ci.run("retrain.yml", "workflow_dispatch", payload)
    assert again.code == 0, explain(again)
    assert f"nothing changed since version {aliases['prod']} (prod)" in again.log
    assert "Data, training and gates" not in again.log  # the checks never started
    assert ci.aliases() == aliases


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


def test_drifted_traffic_opens_one_issue_and_dispatches_retraining(ci):
    predictions = ci.snapshot.state / "predictions"
    shutil.rmtree(predictions)  # the window starts now: forget the load tests' random records
    ci.send_traffic("prod", generate(3000, seed=7, problems="drift"))
    dispatch = {"inputs": {"current": "", "retrain": "true"}}

    first = ci.run("drift.yml", "workflow_dispatch", dispatch)
    assert first.code == 0, explain(first)
    drift = json.loads(ci.artifact("drift-report", "drift.json"))
    assert set(drift["drifted_features"]) == set(DRIFTED_COLUMNS)
    [issue] = ci.github.state.issues
    assert [label["name"] for label in issue["labels"]] == ["lifecycle-drift"]
    assert "income" in issue["body"]
    [retrain] = ci.github.state.dispatches
    assert (retrain["workflow"], retrain["ref"]) == ("retrain.yml", "main")
    assert retrain["inputs"]["reason"].startswith("drift: ")

    again = ci.run("drift.yml", "workflow_dispatch", dispatch)
    assert again.code == 0, explain(again)
    assert len(ci.github.state.issues) == 1  # updated in place, never a duplicate
    assert len(ci.github.state.comments[issue["number"]]) == 1
    assert len(ci.github.state.dispatches) == 2
    assert not again.job_succeeded("Incident")  # skipped: the check itself worked


def test_a_failed_drift_run_opens_an_incident_issue(ci):
    """A scheduled run that finds no prediction log fails (never "not enough data" for ever)."""
    predictions = ci.snapshot.state / "predictions"
    predictions.rename(predictions.with_name("predictions-away"))
    try:
        result = ci.run("drift.yml", "schedule", {"schedule": "23 5 * * *"})
    finally:
        predictions.with_name("predictions-away").rename(predictions)
    assert result.code != 0
    assert result.job_failed("Drift check"), explain(result)
    assert "serving.prediction_log.path" in result.log
    assert result.job_succeeded("Incident"), explain(result)
    incidents = [
        i for i in ci.github.state.issues if i["labels"] == [{"name": "lifecycle-incident"}]
    ]
    assert len(incidents) == 1 and "drift check itself failed" in incidents[0]["body"]


def test_history_and_dora_show_what_the_workflows_did(ci):
    history = ci.cli("history", "--env", "prod")
    assert "rollback" in history and "bad release" in history and "ci-tester" in history
    dora = json.loads(ci.cli("dora", "--env", "prod", "--format", "json"))
    assert dora["deployments"] >= 2
    assert dora["failed_deployments"] >= 1  # the retrained release was rolled back
    assert dora["change_failure_rate"] > 0 and dora["rollbacks"] >= 1


CONSUMER_WORKFLOW = """\
name: train
on: push
permissions: {}
jobs:
  train:
    name: Train with the template's actions
    runs-on: ubuntu-latest
    timeout-minutes: 30
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - uses: acme/lifecycle/actions/setup@v1
      - uses: acme/lifecycle/actions/data-tests@v1
      - uses: acme/lifecycle/actions/train@v1
        id: train
      - name: Show the run
        env:
          RUN_ID: ${{ steps.train.outputs.run-id }}
        run: echo "trained run $RUN_ID"
"""


def test_the_actions_work_from_another_repository(tmp_path):
    """A repository with only its settings, contract and data uses the actions by reference
    (`acme/lifecycle/actions/<step>@v1`, served by act from a copy of this repository): setup
    installs the package into the action's own checkout and the steps read the caller's files."""
    template = Snapshot.create(tmp_path / "template", tmp_path / "template-state")
    consumer = Snapshot(tmp_path / "consumer", tmp_path / "state")
    consumer.state.mkdir(parents=True)
    (consumer.folder / "contracts").mkdir(parents=True)
    shutil.copy(CONTRACT, consumer.folder / "contracts" / "credit.yaml")
    write_params(consumer.folder / "params.yaml", Path("data/credit.parquet"),
                 {"gates": {"data": {"contract": "contracts/credit.yaml"}}})  # fmt: skip
    (consumer.folder / ".github/workflows").mkdir(parents=True)
    (consumer.folder / ".github/workflows/train.yml").write_text(CONSUMER_WORKFLOW)
    subprocess.run(
        [str(BIN / "lifecycle"), "generate", "--rows", "5000", "--seed", "3"],
        cwd=consumer.folder, check=True, capture_output=True,
    )  # fmt: skip
    consumer.git("init", "-q", "-b", "main")
    consumer.commit("a project that uses the template's actions")

    result = consumer.act(
        "train.yml", "push", {"ref": "refs/heads/main"}, {},
        actions={"acme/lifecycle@v1": template.folder},
    )  # fmt: skip
    assert result.code == 0, explain(result)
    assert "5000 rows, 17 columns" in result.log  # the caller's data, checked by its contract
    assert "on 4000 rows" in result.log  # trained on the caller's split
    assert re.search(r"trained run [0-9a-f]{32}", result.log), explain(result)
    assert not (consumer.folder / ".venv").exists()  # installed in the action's checkout
