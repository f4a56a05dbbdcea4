"""Security rules every workflow and action keeps (zizmor checks more in `make lint`)."""

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / "actions").glob("*/action.yml"))
READ_ONLY = "registry-read"  # the one environment open to every branch: read-only credentials
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def jobs(path):
    return load(path)["jobs"].items()


def test_there_are_workflows():
    names = {p.stem for p in WORKFLOWS}
    assert {"pull-request", "main", "retrain", "rollback", "drift", "checks", "release"} <= names


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
def test_third_party_actions_are_pinned_to_a_commit_with_its_version(path):
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s*(-\s+)?uses:", line) and "./" not in line:
            assert PINNED.match(line), f"{path.name}: not pinned to a SHA with a version: {line}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_least_privilege(path):
    text = path.read_text(encoding="utf-8")
    workflow = load(path)
    assert workflow["permissions"] == {}, "top-level permissions must be {}"
    assert "pull_request_target" not in text
    assert "secrets: inherit" not in text
    for job_id, job in jobs(path):
        assert "permissions" in job, f"{job_id}: job without explicit permissions"
        if "uses" in job:  # a called workflow: its jobs carry the timeouts
            continue
        assert "timeout-minutes" in job, f"{job_id}: no timeout-minutes"
        env = job.get("environment")
        deploys = isinstance(env, dict) and "url" in env
        if job["permissions"].get("id-token") == "write":
            assert deploys, f"{job_id}: id-token write outside a deploy job"
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, job_id
            assert "${{" not in step.get("run", ""), f"{job_id}: expression inside run:"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_are_read_only_in_jobs_with_an_environment(path):
    for job_id, job in jobs(path):
        if "secrets." in yaml.safe_dump(job.get("env", {})) + str(job.get("steps", "")):
            assert job.get("environment"), f"{job_id}: reads secrets without an environment"


def test_every_deploy_and_rollback_is_the_one_reusable_deploy_job_queued_per_environment():
    deploying = [
        (path.name, job_id, job)
        for path in WORKFLOWS
        for job_id, job in jobs(path)
        if isinstance(job.get("environment"), dict) and "url" in job["environment"]
    ]
    assert [(name, job_id) for name, job_id, _ in deploying] == [("deploy.yml", "deploy")]
    job = deploying[0][2]
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    concurrency = job["concurrency"]
    assert concurrency["group"] == "deploy-${{ inputs.environment }}"
    assert concurrency["cancel-in-progress"] is False
    # the default (single) lets a newer pending deploy cancel an older pending one; act rejects
    # the key, so the workflow tests run this test on copies without it
    if not os.environ.get("ACT"):
        assert concurrency.get("queue") == "max"
    callers = {
        (path.name, job_id): job.get("with", {})
        for path in WORKFLOWS
        for job_id, job in jobs(path)
        if job.get("uses") == "./.github/workflows/deploy.yml"
    }
    release = {k[1]: w["environment"] for k, w in callers.items() if k[0] == "release.yml"}
    assert release == {"deploy-dev": "dev", "deploy-staging": "staging", "deploy-prod": "prod"}
    rollback = callers[("rollback.yml", "rollback")]
    assert rollback["rollback"] is True
    assert rollback["environment"] == "${{ inputs.environment }}"
    assert len(callers) == 4


@pytest.mark.parametrize("name", ["main", "retrain", "rollback"])
def test_no_workflow_level_group_can_cancel_a_pending_release_or_rollback(name):
    workflow = load(ROOT / f".github/workflows/{name}.yml")
    assert "concurrency" not in workflow, "deploy jobs queue per environment instead"


def test_a_push_to_main_starts_one_chain():
    """Only main.yml runs on a push to main, whatever the commit changes (no path filters): a
    commit touching code and params.yaml must not register and deploy two versions."""
    on_push = {}
    for path in WORKFLOWS:
        triggers = load(path).get(True) or {}  # YAML 1.1 reads the key `on` as true
        push = triggers.get("push") if isinstance(triggers, dict) else None
        if push is not None:
            on_push[path.name] = push
    assert list(on_push) == ["main.yml"]
    assert on_push["main.yml"] == {"branches": ["main"]}


def environments_file():
    return load(ROOT / ".github/environments.yml")["environments"]


def called_jobs(path):
    """(workflow, job id, job) of a workflow and of the local reusable workflows it calls."""
    for job_id, job in jobs(path):
        uses = str(job.get("uses", ""))
        if uses.startswith("./.github/workflows/"):
            yield from called_jobs(ROOT / uses)
        else:
            yield path.name, job_id, job


def environment_name(job):
    env = job.get("environment")
    return str(env["name"] if isinstance(env, dict) else env) if env else None


def test_only_the_read_only_environment_admits_every_branch():
    spec = environments_file()
    assert spec[READ_ONLY]["branches"] == "all"
    for name, env in spec.items():
        if name != READ_ONLY:
            assert env["branches"] == ["main"], f"{name} holds write credentials: main only"


def test_pull_request_jobs_never_name_a_write_environment():
    named = {
        environment_name(job)
        for _, _, job in called_jobs(ROOT / ".github/workflows/pull-request.yml")
    }
    assert named - {None} == {READ_ONLY}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_write_credentials_only_in_environments_restricted_to_main(path):
    main_only = {n for n, env in environments_file().items() if env["branches"] == ["main"]}
    for job_id, job in jobs(path):
        text = yaml.safe_dump(job.get("env", {})) + str(job.get("steps", ""))
        secrets = set(re.findall(r"secrets\.(\w+)", text))
        if environment_name(job) == READ_ONLY:
            assert all(s.startswith("MLFLOW_READONLY_") for s in secrets), job_id
        elif secrets:
            env = environment_name(job)
            assert env in main_only or env.startswith("${{"), f"{job_id}: {env}"


def test_the_release_first_checks_that_prod_needs_approval():
    path = ROOT / ".github/workflows/release.yml"
    graph = {job_id: job.get("needs", []) for job_id, job in jobs(path)}
    graph = {k: [v] if isinstance(v, str) else v for k, v in graph.items()}
    first = [job_id for job_id, needs in graph.items() if not needs]
    assert first == ["protection"], "every other job waits for the prod check"
    job = dict(jobs(path))["protection"]
    assert job["permissions"] == {"contents": "read", "actions": "read"}
    assert "environment" not in job and "secrets." not in str(job)
    assert job["steps"][-1]["run"].endswith("lifecycle environments --check prod")
    for caller in ("main", "retrain"):
        release = dict(jobs(ROOT / f".github/workflows/{caller}.yml"))["release"]
        assert release["permissions"]["actions"] == "read", caller


def test_the_locked_dependencies_are_audited_and_the_report_decides():
    steps = dict(jobs(ROOT / ".github/workflows/checks.yml"))["audit"]["steps"]
    scan, report = steps[-2], steps[-1]
    assert "uv export --frozen" in scan["run"] and ".venv/bin/pip-audit" in scan["run"]
    assert "--format json" in scan["run"] and "|| true" not in scan["run"]
    assert report["run"] == ".venv/bin/lifecycle audit --report reports/pip-audit.json"
    assert "steps.scan.outcome" in report["if"] and "continue-on-error" not in str(steps)


def test_prod_needs_a_reviewer():
    spec = load(ROOT / ".github/environments.yml")["environments"]
    assert spec["prod"]["reviewers"], "prod must need a reviewer's approval"
    assert spec["prod"]["branches"] == ["main"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_local_actions_exist_and_get_only_the_inputs_they_declare(path):
    for job_id, job in jobs(path):
        for step in job.get("steps", []):
            uses = str(step.get("uses", ""))
            if not uses.startswith("./actions/"):
                continue
            action_file = ROOT / uses / "action.yml"
            assert action_file.is_file(), f"{job_id}: {uses} does not exist"
            inputs = load(action_file).get("inputs") or {}
            given = set(step.get("with") or {})
            assert given <= set(inputs), f"{job_id}: {uses} has no input {given - set(inputs)}"
            required = {name for name, spec in inputs.items() if spec.get("required")}
            assert required <= given, f"{job_id}: {uses} needs {required - given}"
