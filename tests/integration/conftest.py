"""Fixtures of the deploy and rollback tests (helpers in deploy_helpers.py)."""

import pytest
from deploy_helpers import BENTO, GITHUB_VARIABLES, recorder_command

from lifecycle.registry import models
from lifecycle.settings import load_settings


@pytest.fixture
def deployable(params_file, tmp_path, monkeypatch, tracking):
    """(settings, params, version, record): a registered version with a recorded Bento, params
    whose environments run the recording command, and the file it records to."""
    from mlflow import MlflowClient

    from lifecycle.training.fit import train

    for name in GITHUB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "bentoml"))  # restored after the test
    monkeypatch.setenv("DEPLOY_RECORD", str(tmp_path / "deploys.jsonl"))
    command = recorder_command(tmp_path)
    environments = {
        e: {"deploy": {"target": "command", "command": command}} for e in ("dev", "prod")
    }
    params = params_file({"environments": environments})
    settings = load_settings(params)
    version = models.register(settings, train(settings).run_id)
    MlflowClient(tracking_uri=tracking, registry_uri=tracking).set_model_version_tag(
        settings.model.name, version, "bento.tag", BENTO
    )
    return settings, params, version, tmp_path / "deploys.jsonl"
