"""Monitoring against a registered model: prediction drift, decay, the model card, DORA metrics.

Two quick training runs are made once for the module; each test registers them under a model
name of its own, so tests stay independent without training again.
"""

import itertools
import json
from datetime import UTC, datetime

import numpy as np
import pytest
import yaml

from fixtures import write_params
from lifecycle import cli
from lifecycle.data.dataset import load_dataset, split, write_table
from lifecycle.data.generator import generate
from lifecycle.gates import record
from lifecycle.gates.bias import fairness
from lifecycle.gates.result import GateReport, write_reports
from lifecycle.monitoring import dora
from lifecycle.registry import aliases, models
from lifecycle.settings import load_settings
from lifecycle.training.fit import train

NAMES = itertools.count(1)
ROWS = 2000


@pytest.fixture(scope="module")
def trained(module_tracking):
    """(settings, [run ids]) of two quick training runs; the first has a bias report logged."""
    data = write_table(generate(ROWS, seed=5), module_tracking / "credit.parquet")
    params = module_tracking / "params.yaml"
    settings = load_settings(write_params(params, data, {"model": {"params": {"max_iter": 20}}}))
    runs = [train(settings).run_id for _ in range(2)]
    log_bias_report(settings, runs[0], module_tracking / "reports")
    return settings, runs


def log_bias_report(settings, run_id, out_dir):
    """The bias gate's fairness checks on the run's holdout, logged as `lifecycle gate` does."""
    from lifecycle.training.model import model_input, positive_proba

    model = models.load_run_model(run_id)
    _, test = split(load_dataset(settings), settings)
    truth = test[settings.data.target].to_numpy()
    proba = positive_proba(model, model_input(test, settings))
    results = []
    for attribute in settings.data.protected_attributes:
        groups = test[attribute].astype(str)
        results += fairness(attribute, groups, truth, (proba >= 0.5).astype(int), proba, settings)
    report = GateReport("bias", "warn", tuple(results))  # warn: a small model may be unfair
    write_reports(report, out_dir)
    record.log_to_run(run_id, [report], out_dir)


@pytest.fixture
def model(trained, tmp_path, monkeypatch):
    """Settings naming a registered model of this test's own, with both runs registered."""
    settings, runs = trained
    raw = yaml.safe_load(settings.source.read_text(encoding="utf-8"))
    raw["model"]["name"] = f"monitored-{next(NAMES)}"
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw), encoding="utf-8")
    settings = load_settings(params)
    for run_id in runs:
        models.register(settings, run_id)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return settings


def test_prediction_drift_is_found_with_the_model(model, data_file, run_drift):
    batch = data_file(generate(2000, seed=11, problems="drift"))

    code, report, _ = run_drift(model.source, "--current", str(batch), "--version", "1")

    checks = {r["name"]: r for r in report["results"]}
    assert code == 1 and report["model_version"] == "1"
    assert not checks["prediction drift"]["passed"]
    assert checks["prediction drift"]["value"] > model.gates.drift.prediction_psi_max


def labels_of(frame, data_file, flip=False):
    labels = frame[["application_id", "default"]].copy()
    if flip:
        labels["default"] = 1 - labels["default"]
    return data_file(labels, "labels.csv")


def drift_on_labelled_traffic(model, data_file, run_drift, flip=False):
    """`lifecycle drift` on fresh traffic with its labels (turned when ``flip``), version 1."""
    fresh = generate(2000, seed=12)
    batch = data_file(fresh.drop(columns=["default"]))
    labels = labels_of(fresh, data_file, flip=flip)
    return run_drift(
        model.source, "--current", str(batch), "--version", "1", "--labels", str(labels)
    )


def test_no_decay_on_fresh_labelled_traffic(model, data_file, run_drift):
    code, report, outputs = drift_on_labelled_traffic(model, data_file, run_drift)

    checks = {r["name"]: r for r in report["results"]}
    assert code == 0, report
    assert checks["prediction drift"]["passed"]
    decay = checks["performance decay"]
    assert decay["passed"] and decay["details"]["labelled_rows"] == 2000
    assert outputs["drift"] == "false"


def test_decay_is_found_when_the_labels_turn(model, data_file, run_drift):
    code, report, outputs = drift_on_labelled_traffic(model, data_file, run_drift, flip=True)

    decay = {r["name"]: r for r in report["results"]}["performance decay"]
    assert code == 1 and report["status"] == "drift" and outputs["drift"] == "true"
    assert not decay["passed"]
    assert decay["value"] > model.gates.drift.performance_drop_max


def test_a_missing_model_is_skipped_with_a_note(model, data_file, run_drift):
    batch = data_file(generate(2000, seed=12))

    code, report, _ = run_drift(model.source, "--current", str(batch))  # no prod alias yet

    assert code == 0 and report["model_version"] is None
    assert any("not available" in note for note in report["notes"])
    assert "prediction drift" not in {r["name"] for r in report["results"]}


def test_the_model_card_of_a_registered_version(model, trained, tmp_path, capsys):
    _, runs = trained
    aliases.promote(model, "staging", "1", actor="octocat", reason="first release")
    reports = tmp_path / "reports"

    code = cli.main(
        ["card", "--params", str(model.source), "--version", "1", "--reports", str(reports)]
    )

    card = (reports / "model-card-v1.md").read_text(encoding="utf-8")
    assert code == 0 and card.strip() in capsys.readouterr().out
    from mlflow import MlflowClient

    tags = MlflowClient().get_model_version(model.model.name, "1").tags
    metrics = MlflowClient().get_run(runs[0]).data.metrics
    assert card.startswith(f"# Model card: {model.model.name} v1")
    assert tags["data.version"] in card and runs[0] in card
    assert "| learning_rate | 0.08 |" in card and "| max_iter | 20 |" in card
    assert f"| roc_auc | {metrics['roc_auc']:.4g} |" in card
    assert "| bias | warn |" in card
    assert "sex: demographic parity" in card and "age_band: equalized odds" in card
    assert model.model.card.intended_use in card
    assert all(item in card for item in model.model.card.limitations)
    assert "| promote | staging | octocat | first release |" in card


def test_the_card_says_when_there_is_no_bias_report(model, tmp_path):
    code = cli.main(["card", "--params", str(model.source), "--reports", str(tmp_path)])

    card = (tmp_path / "model-card-v2.md").read_text(encoding="utf-8")  # candidate: v2
    assert code == 0
    assert "No bias gate report was logged" in card
    assert "Never promoted" in card


def test_dora_counts_promotions_failures_and_recovery(model, tmp_path, capsys):
    aliases.promote(model, "prod", "1", actor="a")
    aliases.promote(model, "prod", "2", actor="a")
    aliases.rollback(model, "prod", actor="a", reason="broken")
    aliases.promote(model, "staging", "2", actor="a")  # another environment: not counted

    code = cli.main(
        ["dora", "--params", str(model.source), "--format", "json", "--reports", str(tmp_path)]
    )

    found = json.loads(capsys.readouterr().out.split("\n## DORA")[0])
    assert code == 0
    assert found["deployments"] == 2 and found["rollbacks"] == 1
    assert found["failed_deployments"] == 1 and found["change_failure_rate"] == 0.5
    assert found["deployments_per_week"] == pytest.approx(2 / 30 * 7, abs=1e-4)
    first, second = found["details"]
    assert not first["rolled_back"] and second["rolled_back"]
    assert 0 <= second["recovery_hours"] < 1
    assert found["time_to_recover_hours_median"] == pytest.approx(second["recovery_hours"])
    assert first["lead_time_from"] in ("commit", "run start") and first["lead_time_hours"] >= 0
    assert (tmp_path / "dora.md").read_text(encoding="utf-8").startswith("## DORA metrics: prod")


def test_dora_times_from_a_constructed_history():
    def entry(at, action, to, old=None):
        return {
            "at": at,
            "action": action,
            "environment": "prod",
            "alias": "prod",
            "from": old,
            "to": to,
        }

    history = [
        entry("2025-03-01T10:00:00Z", "promote", "1"),
        entry("2025-03-02T10:00:00Z", "promote", "2", "1"),
        entry("2025-03-02T12:30:00Z", "rollback", "1", "2"),
        entry("2025-03-05T10:00:00Z", "promote", "3", "1"),
        entry("2025-01-01T10:00:00Z", "promote", "0"),  # outside the window
    ]
    started = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)

    found = dora.compute(
        history[:4],
        "prod",
        days=7,
        origin=lambda e: (started, "commit"),
        now=datetime(2025, 3, 7, tzinfo=UTC),
    )

    assert [d.version for d in found.deployments] == ["1", "2", "3"]
    assert found.change_failure_rate == pytest.approx(1 / 3)
    assert found.recovery_hours == pytest.approx(2.5)
    assert found.lead_time_hours == pytest.approx(30)  # 6 h, 30 h, 102 h
    assert found.per_week == pytest.approx(3)
    assert np.isclose(
        dora.compute(history, "prod", 7, now=datetime(2025, 3, 7, tzinfo=UTC)).per_week, 3
    )


def test_logged_predictions_join_their_labels_by_request(
    model, tmp_path, data_file, run_drift, write_log
):
    import pandas as pd

    from lifecycle.monitoring.scoring import probabilities

    fresh = generate(2000, seed=12)
    scores = probabilities(models.load_model(model, "1"), fresh, model)
    write_log(tmp_path / "predictions", fresh, (), scores)
    keys = pd.DataFrame(
        {"request_id": [f"r{i // 10}" for i in range(2000)], "index": [i % 10 for i in range(2000)]}
    )
    labels = data_file(keys.assign(default=fresh["default"]), "labels.parquet")

    code, report, _ = run_drift(
        model.source, "--current", str(tmp_path / "predictions"), "--labels", str(labels)
    )

    decay = {r["name"]: r for r in report["results"]}["performance decay"]
    assert code == 0, report
    assert report["model_version"] == "1"  # the version the log names
    assert decay["passed"] and decay["details"]["joined_on"] == ["request_id", "index"]
    assert "logged" in decay["details"]["message"]
