"""The bias gate: fairlearn metrics per protected attribute, the group table, PerformanceBias.

A model trained on the generator's biased data must fail; one trained on the default data
passes (judged on a large holdout: small groups make selection rates noisy).
"""

import pytest
from gate_helpers import fit, quick_settings, with_gate

from lifecycle.data.dataset import split
from lifecycle.data.generator import generate
from lifecycle.gates.bias import run_bias

HOLDOUT_ROWS = 10_000


@pytest.fixture(scope="module")
def settings():
    return quick_settings()


@pytest.fixture(scope="module")
def fair(settings):
    train_df, _ = split(generate(5000, 3), settings)
    return fit(settings, train_df), generate(HOLDOUT_ROWS, 11)


@pytest.fixture(scope="module")
def biased(settings):
    train_df, _ = split(generate(5000, 3, "bias"), settings)
    return fit(settings, train_df), generate(HOLDOUT_ROWS, 11, "bias")


def test_a_model_trained_on_fair_data_passes(settings, fair, tmp_path):
    model, holdout = fair
    report = run_bias(model, holdout, settings, tmp_path)
    assert report.passed, report.reason()
    names = {r.name for r in report.results}
    for attribute in settings.data.protected_attributes:
        assert {
            f"{attribute}: demographic parity",
            f"{attribute}: equalized odds",
            f"Performance Bias ({attribute})",
        } <= names
    assert (tmp_path / "bias.html").is_file()


def test_a_model_trained_on_biased_data_fails_with_a_readable_reason(settings, biased):
    model, holdout = biased
    report = run_bias(model, holdout, settings)
    failed = {r.name: r for r in report.results if not r.passed}
    parity = failed["sex: demographic parity"]
    assert parity.metric == "demographic_parity_ratio"
    assert parity.value < settings.gates.bias.threshold_for("sex").demographic_parity_ratio_min
    assert "female" in parity.details["message"] and "male" in parity.details["message"]
    assert report.blocking and "sex: demographic parity" in report.reason()


def test_the_group_table_has_count_rates_and_the_main_metric(settings, biased):
    model, holdout = biased
    report = run_bias(model, holdout, settings)
    parity = next(r for r in report.results if r.name == "sex: demographic parity")
    groups = parity.details["groups"]
    assert set(groups) == {"female", "male"}
    assert sum(g["count"] for g in groups.values()) == len(holdout)
    for stats in groups.values():
        assert set(stats) == {"count", "selection_rate", "tpr", "fpr", "roc_auc"}
    assert groups["female"]["selection_rate"] > groups["male"]["selection_rate"]


def test_a_threshold_per_attribute_overrides_the_default(settings, biased):
    model, holdout = biased
    lenient = {"demographic_parity_ratio_min": 0.0, "equalized_odds_difference_max": 1.0}
    per_attribute = {"sex": settings.gates.bias.default.model_copy(update=lenient)}
    report = run_bias(model, holdout, with_gate(settings, "bias", per_attribute=per_attribute))
    by_name = {r.name: r for r in report.results}
    assert by_name["sex: demographic parity"].passed
    assert not by_name["age_band: demographic parity"].passed


def test_warn_mode_does_not_block(settings, biased):
    model, holdout = biased
    report = run_bias(model, holdout, with_gate(settings, "bias", mode="warn"))
    assert not report.passed and not report.blocking
