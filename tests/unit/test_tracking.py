"""Where runs live and what each run records about how it was made."""

import hashlib
import os
import shutil
import subprocess

import pytest

from lifecycle.errors import RegistryError
from lifecycle.registry import tracking as tracking_lib


def test_configure_defaults_to_an_embedded_store_under_the_current_directory(
    tracking, settings, tmp_path, monkeypatch, tracking_template
):
    home = tmp_path / "checkout"
    (home / "mlruns").mkdir(parents=True)
    shutil.copyfile(tracking_template, home / "mlruns" / "mlflow.db")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.chdir(home)

    uri = tracking_lib.configure()

    assert uri == f"sqlite:///{(home / 'mlruns' / 'mlflow.db').resolve().as_posix()}"
    assert (home / "mlruns" / "artifacts").is_dir()
    import mlflow

    assert mlflow.get_registry_uri() == uri
    found = mlflow.get_experiment(tracking_lib.experiment(settings))
    assert found.name == settings.model.name
    assert found.artifact_location == (home / "mlruns" / "artifacts").resolve().as_uri()


def test_configure_uses_mlflow_tracking_uri_when_set(tracking):
    assert tracking.startswith("sqlite:///")
    assert tracking_lib.configure() == tracking


def test_experiment_is_created_once(tracking, settings):
    assert tracking_lib.experiment(settings) == tracking_lib.experiment(settings)


def test_latest_run_id_without_a_training_run_says_to_train(tracking, settings):
    with pytest.raises(RegistryError, match="lifecycle train"):
        tracking_lib.latest_run_id(settings)


def test_run_metadata_records_code_data_settings_lock_and_machine(settings):
    from lifecycle.data.dvc import data_version

    tags = tracking_lib.run_metadata(settings)

    assert tags["data.version"] == data_version(settings)
    assert tags["params.sha256"] == hashlib.sha256(settings.source.read_bytes()).hexdigest()
    assert tags["python.version"].startswith("3.")
    assert tags["host.cpu_count"] == str(os.cpu_count())
    assert float(tags["host.memory_gb"]) > 0
    for key in ("git.commit", "git.dirty", "uv_lock.sha256", "host.platform", "lifecycle.version"):
        assert tags[key]


def test_git_state_gives_the_commit_and_whether_tracked_files_changed(tmp_path):
    def git(*args):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path, check=True, capture_output=True,
        )  # fmt: skip

    git("init", "-q")
    (tmp_path / "params.yaml").write_text("a: 1\n")
    git("add", "params.yaml")
    git("commit", "-q", "-m", "first")

    commit, dirty = tracking_lib._git_state(tmp_path)
    assert len(commit) == 40 and dirty == "false"
    (tmp_path / "params.yaml").write_text("a: 2\n")
    assert tracking_lib._git_state(tmp_path) == (commit, "true")


def test_git_state_outside_a_checkout_falls_back_to_github_sha(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", "abc123")
    assert tracking_lib._git_state(tmp_path / "nowhere") == ("abc123", "unknown")


def test_lock_file_hash_is_found_upwards(tmp_path):
    (tmp_path / "uv.lock").write_text("lock")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert tracking_lib._find_upwards("uv.lock", deep) == tmp_path / "uv.lock"
    assert tracking_lib.file_sha256(None) == "missing"


def test_artifact_location_sits_beside_a_sqlite_database_only(tmp_path):
    db = tmp_path / "store" / "mlflow.db"
    assert tracking_lib.artifact_location(f"sqlite:///{db}") == (
        (tmp_path / "store" / "artifacts").as_uri()
    )
    assert tracking_lib.artifact_location("http://127.0.0.1:5000") is None


def test_flat_params_flattens_nested_settings():
    flat = tracking_lib.flat_params({"split": {"seed": 1}, "features": ["a", "b"]})
    assert flat == {"split.seed": "1", "features": "a,b"}


def test_describe_uri_hides_credentials(tracking, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:secret@127.0.0.1:5000")
    tracking_lib.configure()
    assert tracking_lib.describe_uri() == "http://127.0.0.1:5000"


def refusal(status, body, endpoint="/api/2.0/mlflow/registered-models/alias"):
    """What MLflow's REST client raises for an answer with ``status`` and ``body``."""
    import requests
    from mlflow.utils.rest_utils import verify_rest_response

    answer = requests.Response()
    answer.status_code, answer._content = status, body.encode()
    with pytest.raises(Exception) as raised:
        verify_rest_response(answer, endpoint)
    return raised.value


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (403, "Permission denied", "refused user 'pr-checks' (MLFLOW_TRACKING_USERNAME) the "
         "request to /api/2.0/mlflow/registered-models/alias (HTTP 403"),
        (403, '{"error_code": "PERMISSION_DENIED", "message": "no"}', "refused user 'pr-checks'"),
        (401, "You are not authenticated", "did not accept the credentials of user 'pr-checks'"),
        (401, '{"error_code": "UNAUTHENTICATED", "message": "who?"}', "(HTTP 401)"),
    ],
)  # fmt: skip
def test_a_refusing_registry_names_the_user_and_where_write_credentials_come_from(
    tracking, monkeypatch, status, body, said
):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "pr-checks")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "hunter2-secret")
    try:
        raise RuntimeError("while promoting") from refusal(status, body)
    except RuntimeError as exc:
        failure = tracking_lib.registry_failure(exc)

    assert isinstance(failure, RegistryError) and failure.exit_code == 2
    message = str(failure)
    assert said in message, message
    assert "read-only" in message and "MLFLOW_TRACKING_PASSWORD" in message
    assert "hunter2-secret" not in message


def test_other_answers_and_other_refusals_are_not_called_a_refusal_of_the_registry(tracking):
    import requests

    missing = refusal(404, '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no model"}')
    assert tracking_lib.registry_failure(missing) is None
    github = requests.Response()
    github.status_code = 403  # a 403 from elsewhere (GitHub's API): no MLflow in the chain
    assert tracking_lib.registry_failure(requests.HTTPError(response=github)) is None
