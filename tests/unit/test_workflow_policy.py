"""Security rules every workflow and action keeps (zizmor checks more in `make lint`)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / "actions").glob("*/action.yml"))
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


def test_each_environment_has_one_deploy_concurrency_group_that_never_cancels():
    groups = {}
    for path in WORKFLOWS:
        for job_id, job in jobs(path):
            env = job.get("environment")
            if isinstance(env, dict) and "url" in env:
                concurrency = job["concurrency"]
                assert concurrency["cancel-in-progress"] is False, f"{path.name}:{job_id}"
                groups.setdefault(concurrency["group"], set()).add(str(env["name"]))
    assert groups["deploy-prod"] == {"prod"} and groups["deploy-dev"] == {"dev"}
    assert "deploy-${{ inputs.environment }}" in groups  # the rollback shares them


def test_prod_needs_a_reviewer():
    spec = load(ROOT / ".github/environments.yml")["environments"]
    assert spec["prod"]["reviewers"], "prod must need a reviewer's approval"
    assert spec["prod"]["branches"] == ["main"]
