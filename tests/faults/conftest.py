"""The fault family's fixtures: a real `mlflow server` (restartable), a cutting proxy in front
of it, small registered models made directly (no training), and the CLI run in a child process.

Children are forked from the test process (imports already paid), run ``lifecycle <verb>`` and
exit, so a lease they leave behind belongs to a process that is gone, as after a crash in CI.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time

import pytest
from fault_helpers import Done, finish, start_cli
from registry_proxy import CuttingProxy

from fixtures.mlflow_server import MlflowServer
from lifecycle.deploy.deployment import BENTO_TAG

QUIET_DEPLOY = {"target": "command", "command": "true"}
NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory, tracking_template):
    """One restartable server per module (a test may kill it and start it again)."""
    server = MlflowServer(tmp_path_factory.mktemp("faults-server"))
    shutil.copyfile(tracking_template, server.store)  # skips the schema migration
    with server:
        yield server


@pytest.fixture
def registry(mlflow_server, monkeypatch, tmp_path):
    """MLflow pointed at the server directly (the test's own view); cwd is tmp_path."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", mlflow_server.url)
    monkeypatch.setenv("LIFECYCLE_REGISTRY_TIMEOUT_S", "10")
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_registry_uri(mlflow_server.url)
    yield mlflow_server
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture
def proxy(mlflow_server):
    cutting = CuttingProxy(mlflow_server.port)
    yield cutting
    cutting.close()


@pytest.fixture
def small_model(registry, params_file):
    """make(versions, promoted=()) -> settings of a fresh model with ``versions`` versions whose
    prod alias was promoted through ``promoted`` (each a recorded move).

    Each version carries a Bento tag and prod deploys with the command target running `true`:
    a rollback redeploys before it moves the alias, and this family is about the registry's
    side of that, so the rollout itself is the cheapest real one."""
    from mlflow import MlflowClient

    from lifecycle.settings import load_settings

    client = MlflowClient()
    experiment = client.create_experiment(f"faults-{os.getpid()}-{next(NAMES)}")
    run = client.create_run(experiment)
    client.set_terminated(run.info.run_id)

    def make(versions: int = 3, promoted: tuple[str, ...] = ()):
        name = f"faults-{next(NAMES)}"
        overrides = {"model": {"name": name}, "environments": {"prod": {"deploy": QUIET_DEPLOY}}}
        settings = load_settings(params_file(overrides, name=f"{name}.yaml"))
        client.create_registered_model(name)
        for _ in range(versions):
            made = client.create_model_version(
                name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
            )
            client.set_model_version_tag(name, made.version, BENTO_TAG, f"{name}:v{made.version}")
        previous = None
        for number, version in enumerate(promoted):  # as a promote records it, made directly
            entry = {"at": f"2026-01-01T00:00:0{number}Z", "action": "promote",
                     "environment": "prod", "alias": "prod", "from": previous, "to": version,
                     "actor": "setup", "reason": ""}  # fmt: skip
            client.set_registered_model_tag(name, f"history.{number + 1}", json.dumps(entry))
            client.set_registered_model_alias(name, "prod", version)
            previous = version
        return settings

    return make


@pytest.fixture
def lifecycle(tmp_path):
    """run(uri, *argv) -> Done: ``lifecycle <argv>`` in a child process against ``uri``."""
    from lifecycle import cli
    from lifecycle.github import actions  # noqa: F401 (imported once, before the forks)

    cli.build_parser()
    outputs = itertools.count(1)

    def run(uri: str, *argv: str) -> Done:
        out = tmp_path / f"cli-{next(outputs)}.txt"
        started = time.monotonic()
        return finish(start_cli(list(argv), uri, out), out, started)

    return run
