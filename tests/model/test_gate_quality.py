"""The quality gate: challenger vs champion on the same holdout, per metric."""

import pytest
from gate_helpers import fit, quick_settings, with_gate

from lifecycle.data.dataset import split
from lifecycle.data.generator import generate
from lifecycle.errors import ConfigError
from lifecycle.gates.quality import run_quality


@pytest.fixture(scope="module")
def setup():
    settings = quick_settings()
    train_df, test_df = split(generate(5000, 3), settings)
    good = fit(settings, train_df)
    worse = fit(settings, train_df, shuffle_labels=True)
    return settings, test_df, good, worse


def test_the_first_run_passes_by_default_and_says_so(setup):
    settings, test_df, good, _ = setup
    report = run_quality(good, test_df, settings, champion=None)
    alias = settings.gates.quality.champion_alias
    expected = f"no champion registered under alias '{alias}': the challenger passes by default"
    assert report.passed and report.note == expected
    assert all(r.details["note"] == expected for r in report.results)
    assert {r.metric for r in report.results} == set(settings.gates.quality.max_regression)


def test_a_challenger_worse_than_the_champion_fails(setup):
    settings, test_df, good, worse = setup
    report = run_quality(worse, test_df, settings, champion=(good, "3"))
    (result,) = [r for r in report.results if r.metric == "roc_auc"]
    allowed = settings.gates.quality.max_regression["roc_auc"]
    assert not result.passed and report.blocking
    assert result.details["champion"] - result.value > allowed
    assert result.details["champion_version"] == "3"
    assert "vs champion v3" in result.details["message"] and "falls by" in result.details["message"]
    assert "roc_auc vs champion" in report.reason()


def test_a_challenger_as_good_as_the_champion_passes(setup):
    settings, test_df, good, _ = setup
    report = run_quality(good, test_df, settings, champion=(good, "1"))
    assert report.passed
    assert all(r.details["change"] == 0 for r in report.results)


def test_losses_may_not_rise_beyond_their_allowance(setup):
    settings, test_df, good, worse = setup
    both = with_gate(settings, "quality", max_regression={"roc_auc": 0.01, "log_loss": 0.01})
    report = run_quality(worse, test_df, both, champion=(good, "1"))
    loss = next(r for r in report.results if r.metric == "log_loss")
    assert not loss.passed and loss.value > loss.details["champion"]
    assert "rises by" in loss.details["message"]


def test_an_unknown_metric_is_a_config_error(setup):
    settings, test_df, good, _ = setup
    wrong = with_gate(settings, "quality", max_regression={"auc": 0.01})
    with pytest.raises(ConfigError, match=r"gates\.quality\.max_regression.*auc"):
        run_quality(good, test_df, wrong, champion=None)


def test_warn_mode_reports_a_regression_without_blocking(setup):
    settings, test_df, good, worse = setup
    report = run_quality(worse, test_df, with_gate(settings, "quality", mode="warn"), (good, "1"))
    assert not report.passed and not report.blocking
