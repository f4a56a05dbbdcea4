"""The registry: versions, aliases per environment, history, rollback, refusal after a failed gate.

Three training runs are made once for the module; each test registers them under a model name of
its own, so tests stay independent without training again.
"""

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from fixtures import write_params
from lifecycle import cli
from lifecycle.data.generator import generate
from lifecycle.errors import GateFailed, RegistryError, UsageError
from lifecycle.registry import aliases, models
from lifecycle.settings import load_settings
from lifecycle.training.fit import train
from lifecycle.training.model import model_input

NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def trained(module_tracking):
    """(settings, [run ids]) of three quick training runs in the module's store."""
    from lifecycle.data.dataset import write_table

    data = write_table(generate(600, seed=5), module_tracking / "credit.parquet")
    params = write_params(
        module_tracking / "params.yaml", data, {"model": {"params": {"max_iter": 20}}}
    )
    settings = load_settings(params)
    return settings, [train(settings).run_id for _ in range(3)]


@pytest.fixture
def model(trained, tmp_path):
    """Settings naming a registered model of this test's own, its params file, the runs."""
    settings, runs = trained
    name = f"model-{next(NAMES)}"
    raw = yaml.safe_load(settings.source.read_text(encoding="utf-8"))
    raw["model"]["name"] = name
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_settings(params), runs


def registered(settings, runs):
    return [models.register(settings, run_id) for run_id in runs]


def test_register_creates_a_version_with_its_origin_and_points_candidate(model):
    settings, runs = model

    version = models.register(settings, runs[0])

    assert version == "1"
    assert aliases.current(settings) == {"candidate": "1"}
    tags = MlflowClient().get_model_version(settings.model.name, version).tags
    run_tags = MlflowClient().get_run(runs[0]).data.tags
    assert tags["run_id"] == runs[0]
    for key in ("data.version", "git.commit", "params.sha256"):
        assert tags[key] == run_tags[key]
    assert float(tags["metric.roc_auc"]) > 0.5


def test_registering_the_same_run_again_gives_the_same_version(model):
    settings, runs = model
    first, second = registered(settings, runs[:2])

    assert models.register(settings, runs[0]) == first
    assert aliases.current(settings)["candidate"] == first
    assert second == "2"


def test_promote_rollback_and_history(model):
    settings, runs = model
    registered(settings, runs)
    for version in ("1", "2", "3"):
        move = aliases.promote(settings, "prod", version, actor="ana", reason=f"ship {version}")
        assert move.changed

    back = aliases.rollback(settings, "prod", actor="bo", reason="p95 too high")
    assert (back.version, back.previous, back.changed) == ("2", "3", True)
    assert aliases.current(settings)["prod"] == "2"

    again = aliases.rollback(settings, "prod", actor="bo", reason="p95 too high")
    assert not again.changed and "nothing changed" in again.message
    assert aliases.current(settings)["prod"] == "2"

    entries = aliases.history(settings, "prod")
    assert [(e["action"], e["from"], e["to"]) for e in entries] == [
        ("promote", None, "1"),
        ("promote", "1", "2"),
        ("promote", "2", "3"),
        ("rollback", "3", "2"),
    ]
    assert entries[-1]["actor"] == "bo" and entries[-1]["reason"] == "p95 too high"
    assert entries[-1]["run_id"] == runs[1] and entries[-1]["data_version"]
    assert entries[0]["at"] < entries[-1]["at"]


def test_rollback_to_a_chosen_version_is_idempotent_too(model):
    settings, runs = model
    registered(settings, runs)
    for version in ("1", "2", "3"):
        aliases.promote(settings, "staging", version, actor="ana")

    assert aliases.rollback(settings, "staging", target="1", actor="bo").changed
    assert not aliases.rollback(settings, "staging", target="1", actor="bo").changed
    assert aliases.current(settings)["staging"] == "1"
    assert len(aliases.history(settings, "staging")) == 4


def test_promoting_the_current_version_changes_nothing(model):
    settings, runs = model
    registered(settings, runs[:1])
    aliases.promote(settings, "dev", "candidate", actor="ana")

    move = aliases.promote(settings, "dev", "1", actor="ana")

    assert not move.changed
    assert len(aliases.history(settings)) == 1


def test_rollback_with_nothing_before_says_to_pass_a_version(model):
    settings, runs = model
    registered(settings, runs[:1])
    aliases.promote(settings, "prod", "1", actor="ana")

    with pytest.raises(RegistryError, match="--to"):
        aliases.rollback(settings, "prod", actor="bo")
    with pytest.raises(RegistryError, match="points at no version"):
        aliases.rollback(settings, "staging", actor="bo")


def test_unknown_environment_is_a_usage_error(model):
    settings, runs = model
    registered(settings, runs[:1])

    with pytest.raises(UsageError, match="unknown environment 'qa'"):
        aliases.promote(settings, "qa", "1", actor="ana")


def test_resolve_takes_numbers_and_aliases(model):
    settings, runs = model
    registered(settings, runs[:2])

    assert models.resolve(settings, "v1").run_id == runs[0]
    assert models.resolve(settings, 2).run_id == runs[1]
    assert str(models.resolve(settings, "candidate").version) == "2"
    with pytest.raises(RegistryError, match="no alias 'prod'"):
        models.resolve(settings, "prod")
    with pytest.raises(RegistryError, match="no version 9"):
        models.resolve(settings, "9")


def test_nothing_registered_is_a_registry_error(model):
    settings, _ = model
    with pytest.raises(RegistryError, match="lifecycle register"):
        models.resolve(settings, "candidate")
    assert aliases.history(settings) == []


def test_load_model_by_alias_predicts_like_the_trained_run(model):
    settings, runs = model
    registered(settings, runs[:1])
    aliases.promote(settings, "dev", "1", actor="ana")

    from lifecycle.data.dataset import load_dataset

    X = model_input(load_dataset(settings), settings)
    served = models.load_model(settings, "dev").predict_proba(X)
    assert np.array_equal(served, models.load_run_model(runs[0]).predict_proba(X))


@pytest.fixture
def failed_gate(trained):
    """Mark the first run as having failed the model gate; undone afterwards."""
    _, runs = trained
    client = MlflowClient()

    def fail(mode):
        client.set_tag(runs[0], "gate.model.passed", "false")
        client.set_tag(runs[0], "gate.model.mode", mode)
        return runs[0]

    yield fail
    for key in ("gate.model.passed", "gate.model.mode"):
        client.delete_tag(runs[0], key)


def test_failed_enforced_gate_refuses_registration_and_leaves_nothing(model, failed_gate, capsys):
    settings, _ = model
    run_id = failed_gate("enforce")

    code = cli.main(["register", "--params", str(settings.source), "--run-id", run_id])

    assert code == 1
    assert "model" in capsys.readouterr().err
    assert not MlflowClient().search_model_versions(f"name='{settings.model.name}'")
    with pytest.raises(GateFailed):
        models.register(settings, run_id)


def test_failed_gate_in_warn_mode_does_not_block(model, failed_gate):
    settings, _ = model
    version = models.register(settings, failed_gate("warn"))

    tags = MlflowClient().get_model_version(settings.model.name, version).tags
    assert tags["gate.model.passed"] == "false"


def test_only_finished_training_runs_can_be_registered(model):
    import mlflow

    settings, runs = model
    experiment = MlflowClient().get_run(runs[0]).info.experiment_id
    with mlflow.start_run(experiment_id=experiment) as other:
        pass
    with pytest.raises(RegistryError, match="not a training run"):
        models.register(settings, other.info.run_id)
    with pytest.raises(RegistryError, match="not found"):
        models.register(settings, "0" * 32)
    with mlflow.start_run(experiment_id=experiment, tags={"lifecycle.step": "train"}) as broken:
        mlflow.end_run("FAILED")
    with pytest.raises(RegistryError, match="FAILED"):
        models.register(settings, broken.info.run_id)
    assert not MlflowClient().search_model_versions(f"name='{settings.model.name}'")


def test_verbs_register_promote_rollback_history(model, tmp_path, monkeypatch, capsys):
    settings, runs = model
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    raw = yaml.safe_load(settings.source.read_text(encoding="utf-8"))
    raw["environments"]["prod"] = {"deploy": {"target": "command", "command": "true"}}
    settings.source.write_text(yaml.safe_dump(raw), encoding="utf-8")
    params = ["--params", str(settings.source)]

    for run_id in runs[:2]:
        assert cli.main(["register", *params, "--run-id", run_id]) == 0
        assert cli.main(["promote", *params, "--env", "prod", "--reason", "release"]) == 0
    # a rollback redeploys first: a version without a Bento cannot go back, and nothing moves
    assert cli.main(["rollback", *params, "--reason", "broken"]) == 2
    assert "version 1 of" in (err := capsys.readouterr().err) and "has no Bento" in err
    assert aliases.current(settings)["prod"] == "2"
    for version in ("1", "2"):
        MlflowClient().set_model_version_tag(settings.model.name, version, "bento.tag", "b:1")
    assert cli.main(["rollback", *params, "--reason", "broken"]) == 0
    assert cli.main(["rollback", *params, "--reason", "broken"]) == 0
    assert cli.main(["history", *params, "--env", "prod"]) == 0

    out = capsys.readouterr().out
    assert "nothing changed" in out
    assert "| rollback | prod | 2 | 1 | octocat | broken |" in out
    written = outputs.read_text()
    assert "version<<" in written and "changed<<" in written and "model-card<<" in written
    card = Path("reports/model-card-v2.md").read_text(encoding="utf-8")
    assert card.startswith("# ") and settings.model.name in card
    logged = MlflowClient().download_artifacts(runs[1], "model-card.md", str(tmp_path))
    assert Path(logged).read_text(encoding="utf-8") == card
    assert aliases.current(settings)["prod"] == "1"
    assert cli.main(["promote", *params, "--env", "qa"]) == 2


def crashed_move(settings, alias_moved):
    """A promote of prod 1 -> 2 whose process died after recording its intent (and maybe after
    moving the alias): the lease it leaves names a process of this machine that is gone."""
    import json
    import subprocess

    from lifecycle.registry import lease

    dead = subprocess.Popen(["true"])
    dead.wait()
    client, name = MlflowClient(), settings.model.name
    entry = {"at": "2026-01-01T00:00:00Z", "action": "promote", "environment": "prod",
             "alias": "prod", "from": "1", "to": "2", "actor": "ci", "reason": "crash"}  # fmt: skip
    intent = {"key": "history.99999999999999999999", "to": "2", "entry": entry}
    held = lease.Lease(name, "prod", "crashed", lease.host_id(), dead.pid, 4e9)
    client.create_registered_model(held.name, tags={**held.tags(), "intent": json.dumps(intent)})
    if alias_moved:
        client.set_registered_model_alias(name, "prod", "2")


@pytest.mark.parametrize("alias_moved", [True, False])
def test_the_next_read_repairs_an_interrupted_move(model, capsys, alias_moved):
    settings, runs = model
    registered(settings, runs[:2])
    aliases.promote(settings, "prod", "1", actor="ana")
    crashed_move(settings, alias_moved)

    entries = aliases.history(settings, "prod")

    expected = "2" if alias_moved else "1"
    assert aliases.current(settings)["prod"] == expected == entries[-1]["to"]
    assert len(entries) == (2 if alias_moved else 1)
    said = "completed the interrupted" if alias_moved else "dropped the interrupted"
    assert said in capsys.readouterr().err
    lease_name = f"{settings.model.name}.lease.prod"
    assert not MlflowClient().search_registered_models(f"name = '{lease_name}'")
    again = aliases.promote(settings, "prod", "2", actor="ana")
    assert again.changed is not alias_moved


def test_a_live_lease_makes_a_move_wait_then_fail_changing_nothing(model, monkeypatch):
    from lifecycle.registry import lease

    settings, runs = model
    registered(settings, runs[:2])
    monkeypatch.setenv("LIFECYCLE_REGISTRY_TIMEOUT_S", "1")
    monkeypatch.setattr(lease, "MARGIN_S", 0)  # waiters give up after 2 s
    held = lease.Lease(settings.model.name, "prod", "other", lease.host_id(), os.getpid(), 4e9)
    MlflowClient().create_registered_model(held.name, tags=held.tags())  # a live move's lease

    with pytest.raises(RegistryError, match=r"holds the lease.*nothing was changed"):
        aliases.promote(settings, "prod", "1", actor="ana")
    assert "prod" not in aliases.current(settings)
    lease.release(MlflowClient(), held)
    assert aliases.promote(settings, "prod", "1", actor="ana").changed


@pytest.mark.parametrize("budget", [1, 2, 5, 8, 20, 45, 120])
def test_mlflow_retries_fit_the_registry_budget(budget):
    from lifecycle.registry.tracking import retry_settings

    found = retry_settings(budget)
    retries = int(found["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])
    backoff = int(found["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"])
    worst = (retries + 1) * int(found["MLFLOW_HTTP_REQUEST_TIMEOUT"]) + backoff * (2**retries - 2)
    assert worst <= max(budget, 2) and found["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] == "0"
