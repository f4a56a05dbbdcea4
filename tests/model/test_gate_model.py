"""The model gate: thresholds, the baseline, invariants, budgets, behaviour, deepchecks.

A small, regularised model on the default data passes; a model trained on shuffled labels
must fail, and each threshold is shown to bite by tightening it in the settings.
"""

import pytest
from gate_helpers import fit, quick_settings, with_gate

from lifecycle.data.dataset import features_and_target, split
from lifecycle.data.generator import generate
from lifecycle.gates import behaviour
from lifecycle.gates.contract import load_contract
from lifecycle.gates.model import latency, run_model_tests, size
from lifecycle.training.model import model_input


@pytest.fixture(scope="module")
def setup():
    settings = quick_settings()
    train_df, test_df = split(generate(5000, 3), settings)
    return settings, train_df, test_df, load_contract(settings)


@pytest.fixture(scope="module")
def good_model(setup):
    settings, train_df, _, _ = setup
    return fit(settings, train_df)


@pytest.fixture(scope="module")
def shuffled_model(setup):
    settings, train_df, _, _ = setup
    return fit(settings, train_df, shuffle_labels=True)


def holdout(settings, frame):
    return model_input(features_and_target(frame, settings)[0], settings)


def results(report):
    return results_of(report.results)


def results_of(items):
    return {r.name: r for r in items}


def test_a_good_model_passes_every_model_test(setup, good_model, tmp_path):
    settings, train_df, test_df, contract = setup
    report = run_model_tests(good_model, train_df, test_df, settings, contract, tmp_path)
    assert report.passed, report.reason()
    found = results(report)
    for metric in settings.gates.model.thresholds:
        assert f"holdout {metric}" in found
    for name in (
        "output shape",
        "probabilities within [0, 1]",
        "probabilities sum to 1",
        "latency per row",
        "model size",
        "clearly risky applicant",
        "clearly safe applicant",
        "Train Test Performance",
    ):
        assert name in found
    assert (tmp_path / "model.html").is_file()


def test_a_model_trained_on_shuffled_labels_fails_against_the_baseline(setup, shuffled_model):
    settings, train_df, test_df, contract = setup
    report = run_model_tests(shuffled_model, train_df, test_df, settings, contract)
    failed = {r.name: r for r in report.results if not r.passed}
    margin = settings.gates.model.baseline_margin
    baseline = failed[f"beats the baseline by {margin}"]
    assert baseline.value < baseline.details["baseline"] + margin
    assert "baseline (class prior)" in baseline.details["message"]
    assert "holdout roc_auc" in failed and "clearly risky applicant" in failed
    assert report.blocking
    assert "beats the baseline" in report.reason(limit=10)


def test_a_feature_that_matters_breaks_invariance(setup, good_model):
    settings, _, test_df, _ = setup
    strict = with_gate(settings, "model", invariant_features=["utilization"])
    (result,) = behaviour.invariance(good_model, holdout(settings, test_df), strict)
    assert result.name == "invariance to utilization" and result.metric == "mean |ΔP(positive)|"
    assert not result.passed and result.value > strict.gates.model.invariance_tolerance
    assert "shuffling utilization" in result.details["message"]


def test_a_wrong_direction_fails(setup, good_model):
    settings, _, test_df, _ = setup
    wrong = with_gate(settings, "model", directional={"num_late_payments": "decreasing"})
    (result,) = behaviour.directional(good_model, holdout(settings, test_df), wrong)
    assert result.name == "num_late_payments is decreasing"
    assert not result.passed and result.value > 0
    assert "raising num_late_payments" in result.details["message"]


def test_the_size_budget_bites(setup, good_model):
    settings, _, _, _ = setup
    result = size(good_model, with_gate(settings, "model", max_size_mb=1e-4))
    assert not result.passed and result.value > result.threshold


def test_the_latency_budget_bites(setup, good_model):
    settings, _, test_df, _ = setup
    tight = with_gate(settings, "model", max_latency_ms_per_row=1e-6)
    result = latency(good_model, holdout(settings, test_df), tight)
    assert not result.passed and result.value > result.threshold
    assert result.details["one_row_call_ms"] > 0


class OverconfidentModel:
    """A broken model: doubles its probabilities (a fixture that must fail the invariants)."""

    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X) * 2


def test_probabilities_outside_0_1_fail_the_invariants(setup, good_model):
    settings, train_df, test_df, _ = setup
    report = run_model_tests(OverconfidentModel(good_model), train_df, test_df, settings)
    found = results(report)
    assert not found["probabilities within [0, 1]"].passed
    assert not found["probabilities sum to 1"].passed
    assert found["output shape"].passed
    assert report.blocking and "not valid probabilities" in report.note


def test_warn_mode_reports_failures_without_blocking(setup, shuffled_model):
    settings, train_df, test_df, _ = setup
    report = run_model_tests(
        shuffled_model, train_df, test_df, with_gate(settings, "model", mode="warn")
    )
    assert not report.passed and not report.blocking


def test_off_mode_runs_nothing(setup, shuffled_model):
    settings, train_df, test_df, _ = setup
    report = run_model_tests(
        shuffled_model, train_df, test_df, with_gate(settings, "model", mode="off")
    )
    assert report.results == () and not report.blocking


def test_the_examples_come_from_the_contract(setup, good_model):
    settings, _, _, contract = setup
    found = results_of(behaviour.minimum_functionality(good_model, contract, settings))
    assert set(found) == {example.name for example in contract.examples}
    for example in contract.examples:
        assert found[example.name].passed
        assert (found[example.name].value > 0.5) == (example.expect == "positive")
