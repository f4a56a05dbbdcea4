"""The same tracking and registry code against a real `mlflow server` over HTTP."""

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from fixtures.mlflow_server import MlflowServer
from lifecycle.registry import aliases, models, tracking
from lifecycle.settings import load_settings
from lifecycle.training.fit import train
from lifecycle.training.model import model_input

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def mlflow_server(tmp_path, monkeypatch, tracking_template):
    """A real `mlflow server` on a free loopback port, serving artifacts; always stopped."""
    import mlflow

    server = MlflowServer(tmp_path / "server")
    server.folder.mkdir()
    shutil.copyfile(tracking_template, server.store)  # skips the schema migration
    with server:
        try:
            monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
            monkeypatch.setenv("MLFLOW_REGISTRY_URI", server.url)
            monkeypatch.chdir(tmp_path)
            yield server.url, server.folder
        finally:
            while mlflow.active_run():
                mlflow.end_run()
            mlflow.set_tracking_uri(None)
            mlflow.set_registry_uri(None)


def test_train_register_alias_and_load_over_http(mlflow_server, params_file, small_df):
    url, folder = mlflow_server
    settings = load_settings(params_file({"model": {"params": {"max_iter": 30}}}))

    assert tracking.configure() == url
    started = time.monotonic()
    first, second = train(settings), train(settings)
    print(f"two training runs over HTTP: {time.monotonic() - started:.1f} s")
    assert tracking.latest_run_id(settings) == second.run_id
    assert models.register(settings, first.run_id) == "1"
    assert models.register(settings, second.run_id) == "2"
    aliases.promote(settings, "prod", "1", actor="ci", reason="first release")
    aliases.promote(settings, "prod", "candidate", actor="ci", reason="second release")

    assert aliases.rollback(settings, "prod", actor="ci", reason="drill").version == "1"
    assert not aliases.rollback(settings, "prod", actor="ci", reason="drill").changed
    assert [e["action"] for e in aliases.history(settings, "prod")] == [
        "promote", "promote", "rollback",
    ]  # fmt: skip
    X = model_input(small_df, settings)
    loaded = models.load_model(settings, "prod").predict_proba(X)
    assert np.array_equal(loaded, models.load_run_model(first.run_id).predict_proba(X))
    assert any((folder / "artifacts").rglob("MLmodel")), "artifacts went through the server"
    assert not (Path.cwd() / "mlruns").exists(), "nothing written to an embedded store"
