"""The same tracking and registry code against a real `mlflow server` over HTTP."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from lifecycle.registry import aliases, models, tracking
from lifecycle.settings import load_settings
from lifecycle.training.fit import train
from lifecycle.training.model import model_input

pytestmark = [pytest.mark.integration, pytest.mark.slow]
STARTUP_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"mlflow server not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def stop(server: subprocess.Popen) -> None:
    """Stop the server and its workers: it leads a process group of its own."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture
def mlflow_server(tmp_path, monkeypatch, tracking_template):
    """A real `mlflow server` on a free loopback port, serving artifacts; always stopped."""
    import mlflow

    folder = tmp_path / "server"
    folder.mkdir()
    shutil.copyfile(tracking_template, folder / "mlflow.db")  # skips the schema migration
    port = free_port()
    log = tmp_path / "server.log"
    command = [
        str(Path(sys.executable).with_name("mlflow")), "server",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{(folder / 'mlflow.db').as_posix()}",
        "--serve-artifacts", "--artifacts-destination", str(folder / "artifacts"),
    ]  # fmt: skip
    with log.open("w") as output:
        server = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, log)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        monkeypatch.setenv("MLFLOW_REGISTRY_URI", url)
        monkeypatch.chdir(tmp_path)
        yield url, folder
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
        stop(server)


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
