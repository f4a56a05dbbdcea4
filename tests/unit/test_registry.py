"""The registry: versions, aliases per environment, history, rollback, refusal after a failed gate.

Three training runs are made once for the module; each test registers them under a model name of
its own, so tests stay independent without training again.
"""

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow import MlflowClient

from lifecycle import cli, registry
from lifecycle.datagen import generate
from lifecycle.errors import GateFailed, RegistryError, UsageError
from lifecycle.settings import load_settings
from lifecycle.train import model_input, train

REPO = Path(__file__).resolve().parents[2]
NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def trained(module_tracking):
    """(settings, [run ids]) of three quick training runs in the module's store."""
    from lifecycle.data import write_table

    data = write_table(generate(600, seed=5), module_tracking / "credit.parquet")
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["data"]["path"] = str(data)
    raw["gates"]["data"]["contract"] = str(REPO / raw["gates"]["data"]["contract"])
    raw["model"]["params"]["max_iter"] = 20
    params = module_tracking / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
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
    return [registry.register(settings, run_id) for run_id in runs]


def test_register_creates_a_version_with_its_origin_and_points_candidate(model):
    settings, runs = model

    version = registry.register(settings, runs[0])

    assert version == "1"
    assert registry.aliases(settings) == {"candidate": "1"}
    tags = MlflowClient().get_model_version(settings.model.name, version).tags
    run_tags = MlflowClient().get_run(runs[0]).data.tags
    assert tags["run_id"] == runs[0]
    for key in ("data.version", "git.commit", "params.sha256"):
        assert tags[key] == run_tags[key]
    assert float(tags["metric.roc_auc"]) > 0.5


def test_registering_the_same_run_again_gives_the_same_version(model):
    settings, runs = model
    first, second = registered(settings, runs[:2])

    assert registry.register(settings, runs[0]) == first
    assert registry.aliases(settings)["candidate"] == first
    assert second == "2"


def test_promote_rollback_and_history(model):
    settings, runs = model
    registered(settings, runs)
    for version in ("1", "2", "3"):
        move = registry.promote(settings, "prod", version, actor="ana", reason=f"ship {version}")
        assert move.changed

    back = registry.rollback(settings, "prod", actor="bo", reason="p95 too high")
    assert (back.version, back.previous, back.changed) == ("2", "3", True)
    assert registry.aliases(settings)["prod"] == "2"

    again = registry.rollback(settings, "prod", actor="bo", reason="p95 too high")
    assert not again.changed and "nothing changed" in again.message
    assert registry.aliases(settings)["prod"] == "2"

    entries = registry.history(settings, "prod")
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
        registry.promote(settings, "staging", version, actor="ana")

    assert registry.rollback(settings, "staging", target="1", actor="bo").changed
    assert not registry.rollback(settings, "staging", target="1", actor="bo").changed
    assert registry.aliases(settings)["staging"] == "1"
    assert len(registry.history(settings, "staging")) == 4


def test_promoting_the_current_version_changes_nothing(model):
    settings, runs = model
    registered(settings, runs[:1])
    registry.promote(settings, "dev", "candidate", actor="ana")

    move = registry.promote(settings, "dev", "1", actor="ana")

    assert not move.changed
    assert len(registry.history(settings)) == 1


def test_rollback_with_nothing_before_says_to_pass_a_version(model):
    settings, runs = model
    registered(settings, runs[:1])
    registry.promote(settings, "prod", "1", actor="ana")

    with pytest.raises(RegistryError, match="--to"):
        registry.rollback(settings, "prod", actor="bo")
    with pytest.raises(RegistryError, match="points at no version"):
        registry.rollback(settings, "staging", actor="bo")


def test_unknown_environment_is_a_usage_error(model):
    settings, runs = model
    registered(settings, runs[:1])

    with pytest.raises(UsageError, match="unknown environment 'qa'"):
        registry.promote(settings, "qa", "1", actor="ana")


def test_resolve_takes_numbers_and_aliases(model):
    settings, runs = model
    registered(settings, runs[:2])

    assert registry.resolve(settings, "v1").run_id == runs[0]
    assert registry.resolve(settings, 2).run_id == runs[1]
    assert str(registry.resolve(settings, "candidate").version) == "2"
    with pytest.raises(RegistryError, match="no alias 'prod'"):
        registry.resolve(settings, "prod")
    with pytest.raises(RegistryError, match="no version 9"):
        registry.resolve(settings, "9")


def test_nothing_registered_is_a_registry_error(model):
    settings, _ = model
    with pytest.raises(RegistryError, match="lifecycle register"):
        registry.resolve(settings, "candidate")
    assert registry.history(settings) == []


def test_load_model_by_alias_predicts_like_the_trained_run(model):
    settings, runs = model
    registered(settings, runs[:1])
    registry.promote(settings, "dev", "1", actor="ana")

    from lifecycle.data import load_dataset

    X = model_input(load_dataset(settings), settings)
    served = registry.load_model(settings, "dev").predict_proba(X)
    assert np.array_equal(served, registry.load_run_model(runs[0]).predict_proba(X))


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
        registry.register(settings, run_id)


def test_failed_gate_in_warn_mode_does_not_block(model, failed_gate):
    settings, _ = model
    version = registry.register(settings, failed_gate("warn"))

    tags = MlflowClient().get_model_version(settings.model.name, version).tags
    assert tags["gate.model.passed"] == "false"


def test_only_finished_training_runs_can_be_registered(model):
    import mlflow

    settings, runs = model
    experiment = MlflowClient().get_run(runs[0]).info.experiment_id
    with mlflow.start_run(experiment_id=experiment) as other:
        pass
    with pytest.raises(RegistryError, match="not a training run"):
        registry.register(settings, other.info.run_id)
    with pytest.raises(RegistryError, match="not found"):
        registry.register(settings, "0" * 32)
    with mlflow.start_run(experiment_id=experiment, tags={"lifecycle.step": "train"}) as broken:
        mlflow.end_run("FAILED")
    with pytest.raises(RegistryError, match="FAILED"):
        registry.register(settings, broken.info.run_id)
    assert not MlflowClient().search_model_versions(f"name='{settings.model.name}'")


def test_verbs_register_promote_rollback_history(model, tmp_path, monkeypatch, capsys):
    settings, runs = model
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    params = ["--params", str(settings.source)]

    for run_id in runs[:2]:
        assert cli.main(["register", *params, "--run-id", run_id]) == 0
        assert cli.main(["promote", *params, "--env", "prod", "--reason", "release"]) == 0
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
    assert registry.aliases(settings)["prod"] == "1"
    assert cli.main(["promote", *params, "--env", "qa"]) == 2
