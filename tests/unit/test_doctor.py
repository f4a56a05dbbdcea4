"""`doctor --require-remote-registry` stops a deploy when no registry outlives the runner."""

import socket

import pytest

import fixtures
from lifecycle import cli

PARAMS = str(fixtures.PARAMS)  # the tests' own settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)


def doctor(*extra):
    return cli.main(["doctor", "--params", PARAMS, *extra])


def test_without_the_flag_the_embedded_store_is_fine(capsys):
    assert doctor() == 0
    assert "embedded" in capsys.readouterr().out


def test_unset_uri_stops_with_how_to_fix_it(capsys):
    assert doctor("--require-remote-registry") == 2
    err = capsys.readouterr().err
    assert "MLFLOW_TRACKING_URI is not set" in err
    assert "gh variable set MLFLOW_TRACKING_URI" in err
    assert "Traceback" not in err


def test_local_store_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    assert doctor("--require-remote-registry") == 2
    assert "is a local store (sqlite)" in capsys.readouterr().err


def test_unreachable_server_is_named_without_its_password(monkeypatch, capsys):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://user:s3cret@127.0.0.1:{port}")
    assert doctor("--require-remote-registry") == 2
    err = capsys.readouterr().err
    assert f"cannot reach the MLflow server at http://127.0.0.1:{port}" in err
    assert "s3cret" not in err


def test_annotation_in_actions(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert doctor("--require-remote-registry") == 2
    assert "::error title=No persistent model registry::" in capsys.readouterr().err
