"""Read-only and write credentials against a real `mlflow server` with basic auth.

The checks of a pull request get read-only registry credentials, the deploy and registry jobs
write ones (docs/workflows.md). Here the admin (the writer) sets up a model whose prod alias is
at version 1; a second user may only read (the server's default permission). `lifecycle` runs in
a child process with each user's credentials in its environment, as a workflow step does.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys

import pytest
from mlflow import MlflowClient

from fixtures import project_env
from fixtures.mlflow_server import ADMIN, MlflowServer
from lifecycle.registry.lease import INFIX

pytestmark = [pytest.mark.integration, pytest.mark.slow]
READER = "reader"
READER_PASSWORD = secrets.token_urlsafe(12)
CLI_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def server(tmp_path_factory, tracking_template):
    server = MlflowServer(tmp_path_factory.mktemp("auth-server"), auth=True)
    shutil.copyfile(tracking_template, server.store)  # skips the schema migration
    with server:
        server.create_user(READER, READER_PASSWORD)
        yield server


@pytest.fixture
def admin(server, monkeypatch):
    """MlflowClient of the admin: the test's own view of the registry."""
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", server.admin_password)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    return MlflowClient(tracking_uri=server.url, registry_uri=server.url)


@pytest.fixture
def prod_at_1(admin, params_file, request):
    """The params file of a model with versions 1 and 2 whose prod alias was promoted to 1."""
    name = f"auth-{request.node.name.removeprefix('test_')[:40]}"
    params = params_file({"model": {"name": name}})
    experiment = admin.create_experiment(name)
    run = admin.create_run(experiment)
    admin.set_terminated(run.info.run_id)
    admin.create_registered_model(name)
    for _ in range(2):
        admin.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    entry = {"at": "2026-01-01T00:00:00Z", "action": "promote", "environment": "prod",
             "alias": "prod", "from": None, "to": "1", "actor": "setup", "reason": ""}  # fmt: skip
    admin.set_registered_model_tag(name, "history.1", json.dumps(entry))
    admin.set_registered_model_alias(name, "prod", "1")
    return params, name


@pytest.fixture
def lifecycle(server, tmp_path):
    """run(user, password, *argv) -> CompletedProcess: `lifecycle <argv>` in a child process
    with the user's credentials for the server."""

    def run(user: str, password: str, *argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **project_env(tmp_path)}
        env.pop("MLFLOW_TRACKING_TOKEN", None)
        env.update(
            MLFLOW_TRACKING_URI=server.url,
            MLFLOW_REGISTRY_URI=server.url,
            MLFLOW_TRACKING_USERNAME=user,
            MLFLOW_TRACKING_PASSWORD=password,
            LIFECYCLE_REGISTRY_TIMEOUT_S="10",
        )
        return subprocess.run(
            [sys.executable, "-m", "lifecycle", *argv], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False,
        )  # fmt: skip

    return run


def state(admin, name):
    """(aliases, tags) of the model as stored, and the leases of its aliases: read directly, so
    no repair runs."""
    model = admin.get_registered_model(name)
    pattern = f"{name}{INFIX}".replace("'", "''")
    leases = admin.search_registered_models(filter_string=f"name LIKE '{pattern}%'")
    aliases = {alias: str(version) for alias, version in model.aliases.items()}
    return aliases, dict(model.tags), [m.name for m in leases]


def promote(params, version):
    return ["promote", "--params", str(params), "--env", "prod", "--version", version]


def test_a_reader_reads_the_history_but_a_promote_is_refused_changing_nothing(
    prod_at_1, admin, lifecycle
):
    params, name = prod_at_1
    before = state(admin, name)

    history = lifecycle(READER, READER_PASSWORD, "history", "--params", str(params), "--env=prod")
    assert history.returncode == 0, history.stderr
    assert "| promote | prod |  | 1 | setup |" in history.stdout

    refused = lifecycle(READER, READER_PASSWORD, *promote(params, "2"))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr, refused.stderr
    said = refused.stderr
    assert f"refused user '{READER}' (MLFLOW_TRACKING_USERNAME)" in said, said
    assert "HTTP 403" in said and "read-only" in said and "MLFLOW_TRACKING_PASSWORD" in said, said
    assert READER_PASSWORD not in said
    assert state(admin, name) == before  # alias at 1, history as it was, no lease left
    assert before[0] == {"prod": "1"} and before[2] == []


def test_a_refused_lease_leaves_nothing_behind(prod_at_1, admin, server, lifecycle):
    """A registry that refuses the reader even the lease (its first write): nothing written."""
    params, name = prod_at_1
    server.grant(READER, f"{name}{INFIX}prod", "DENY")
    before = state(admin, name)

    refused = lifecycle(READER, READER_PASSWORD, *promote(params, "2"))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr, refused.stderr
    assert f"refused user '{READER}'" in refused.stderr, refused.stderr
    assert "repaired" not in refused.stderr  # nothing was begun, so nothing to undo
    assert state(admin, name) == before


def test_a_wrong_password_is_named_as_the_credentials(prod_at_1, admin, lifecycle):
    params, name = prod_at_1
    before = state(admin, name)
    wrong = secrets.token_urlsafe(12)

    for argv in (promote(params, "2"), ["history", "--params", str(params)]):
        done = lifecycle(READER, wrong, *argv)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert f"did not accept the credentials of user '{READER}'" in done.stderr, done.stderr
        assert "HTTP 401" in done.stderr and "MLFLOW_TRACKING_PASSWORD" in done.stderr
        assert wrong not in done.stderr
    assert state(admin, name) == before


def test_the_writer_promotes(prod_at_1, admin, server, lifecycle):
    params, name = prod_at_1

    done = lifecycle(ADMIN, server.admin_password, *promote(params, "2"))

    assert done.returncode == 0, done.stdout + done.stderr
    aliases, tags, leases = state(admin, name)
    assert aliases == {"prod": "2"} and leases == []
    stamped = sorted((int(k.split(".")[1]), v) for k, v in tags.items() if k.startswith("history."))
    entries = [json.loads(value) for _, value in stamped]
    assert [(e["from"], e["to"]) for e in entries] == [(None, "1"), ("1", "2")]
