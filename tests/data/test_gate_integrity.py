"""The integrity gate: deepchecks data integrity and train-test validation, as gate results."""

from lifecycle.data.generator import LEAKY_COLUMN, generate
from lifecycle.gates.integrity import run_integrity
from lifecycle.settings import load_settings


def test_default_data_passes_with_every_check_reported(small_df, settings, tmp_path):
    report = run_integrity(small_df, settings, tmp_path)
    assert report.passed, report.reason()
    names = {r.name.split(" - ")[0] for r in report.results}
    assert {
        "Feature Label Correlation",
        "Conflicting Labels",
        "Class Imbalance",
        "Feature Label Correlation Change",
        "Feature Drift",
        "Label Drift",
    } <= names
    assert (tmp_path / "integrity.html").stat().st_size > 0


def test_a_leaky_feature_fails_naming_the_feature(params_file):
    numeric = load_settings(params_file()).data.features.numeric
    settings = load_settings(
        params_file({"data": {"features": {"numeric": [*numeric, LEAKY_COLUMN]}}})
    )
    frame = generate(3000, 7, "leakage")

    report = run_integrity(frame, settings)

    failed = [r for r in report.results if not r.passed]
    assert failed and report.blocking
    leak = failed[0]
    assert leak.name.startswith("Feature Label Correlation")
    assert leak.value == {LEAKY_COLUMN: 1.0}
    assert leak.threshold == settings.gates.integrity.max_feature_pps
    assert LEAKY_COLUMN in leak.details["message"]


def test_a_single_class_label_fails_label_balance(small_df, params_file):
    settings = load_settings(params_file({"data": {"split": {"stratify": False}}}))
    small_df["default"] = 0
    small_df.loc[:9, "default"] = 1  # ten positives in 4000 rows

    report = run_integrity(small_df, settings)

    balance = [r for r in report.results if r.name.startswith("Class Imbalance")]
    assert balance and not any(r.passed for r in balance)
    assert all(r.value < settings.gates.integrity.min_label_share for r in balance)


def test_missing_columns_fail_without_running(small_df, settings):
    report = run_integrity(small_df.drop(columns=["income"]), settings)
    assert not report.passed
    assert "income" in report.results[0].details["message"]


def test_mode_off_runs_nothing(small_df, params_file):
    settings = load_settings(params_file({"gates": {"integrity": {"mode": "off"}}}))
    report = run_integrity(small_df, settings)
    assert report.results == () and not report.blocking
