"""Training: the pipeline, what a run records, hyperparameter search, reproducibility."""

import numpy as np
import pytest
from mlflow import MlflowClient

from lifecycle import cli
from lifecycle.errors import ConfigError
from lifecycle.registry import models
from lifecycle.registry.tracking import latest_run_id
from lifecycle.settings import load_settings
from lifecycle.training.fit import train
from lifecycle.training.model import METRICS, build_pipeline, model_input


@pytest.fixture
def quick(params_file):
    """Settings with fewer boosting iterations, so training tests stay quick."""
    return load_settings(params_file({"model": {"params": {"max_iter": 30}}}))


def test_pipeline_holds_preprocessing_and_the_configured_estimator(settings):
    pipeline = build_pipeline(settings)

    assert list(pipeline.named_steps) == ["preprocess", "model"]
    estimator = pipeline.named_steps["model"]
    assert settings.model.estimator.endswith(type(estimator).__name__)
    assert estimator.random_state == settings.model.seed
    for key, value in settings.model.params.items():
        assert estimator.get_params()[key] == value


def test_bad_estimator_path_exits_2_naming_the_key_and_file(params_file, capsys):
    path = params_file({"model": {"estimator": "sklearn.ensemble.NoSuchForest"}})

    assert cli.main(["train", "--params", str(path)]) == 2
    err = capsys.readouterr().err
    assert "model.estimator" in err and str(path) in err and "NoSuchForest" in err
    assert "Traceback" not in err


def test_estimator_without_probabilities_is_refused(params_file):
    settings = load_settings(params_file({"model": {"estimator": "sklearn.svm.LinearSVC"}}))
    with pytest.raises(ConfigError, match=r"model\.estimator.*predict_proba"):
        build_pipeline(settings)


def test_unknown_hyperparameter_names_the_key_and_a_close_match(settings):
    wrong = settings.model.model_copy(update={"params": {"learnin_rate": 0.1}})
    with pytest.raises(ConfigError, match=r"model\.params\.learnin_rate.*'learning_rate'"):
        build_pipeline(settings.model_copy(update={"model": wrong}))


def test_bad_hyperparameter_value_names_the_key(settings):
    wrong = settings.model.model_copy(update={"params": {"learning_rate": "fast"}})
    with pytest.raises(ConfigError, match=r"model\.params\.learning_rate"):
        build_pipeline(settings.model_copy(update={"model": wrong}))


def test_model_input_makes_numeric_columns_float(small_df, settings):
    X = model_input(small_df, settings)

    assert list(X.columns) == settings.data.features.all
    assert all(X[c].dtype == "float64" for c in settings.data.features.numeric)


def test_same_inputs_give_identical_predictions(tracking, quick, small_df):
    first, second = train(quick), train(quick)

    X = model_input(small_df, quick)
    a = models.load_run_model(first.run_id).predict_proba(X)
    b = models.load_run_model(second.run_id).predict_proba(X)
    assert first.run_id != second.run_id
    assert np.array_equal(a, b)
    assert first.metrics == second.metrics


def test_train_verb_records_params_metrics_tags_and_a_signed_model(
    tracking, quick, tmp_path, monkeypatch, capsys
):
    settings = quick
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))

    assert cli.main(["train", "--params", str(settings.source)]) == 0

    run_id = latest_run_id(settings)
    assert f"run id: {run_id}" in capsys.readouterr().out
    assert "run-id<<" in outputs.read_text() and run_id in outputs.read_text()
    run = MlflowClient().get_run(run_id)
    for metric in (*METRICS, "duration_seconds", "fit_seconds"):
        assert metric in run.data.metrics
    assert run.data.params["estimator"] == settings.model.estimator
    assert run.data.params["random_state"] == str(settings.model.seed)
    tags = run.data.tags
    assert tags["lifecycle.step"] == "train"
    for key in ("git.commit", "data.version", "params.sha256", "uv_lock.sha256", "host.cpu_count"):
        assert key in tags
    assert_signature(tags["model.uri"], settings, small_frame_nulls(settings))


def small_frame_nulls(settings):
    from lifecycle.data.dataset import load_dataset

    frame = load_dataset(settings)
    return {c for c in settings.data.features.all if frame[c].isna().any()}


def assert_signature(model_uri, settings, nullable):
    from mlflow.models import get_model_info

    info = get_model_info(model_uri)
    columns = {c.name: c for c in info.signature.inputs.inputs}
    assert list(columns) == settings.data.features.all
    for name in settings.data.features.numeric:
        assert columns[name].type.name == "double"
    for name, column in columns.items():
        assert column.required == (name not in nullable), name
    assert info.saved_input_example_info is not None


def test_search_logs_every_trial_as_a_nested_run(tracking, quick):
    settings = quick
    spec = settings.model.search.model_copy(update={"enabled": True, "n_trials": 2, "cv": 2})
    searching = settings.model_copy(
        update={"model": settings.model.model_copy(update={"search": spec})}
    )

    result = train(searching)

    client = MlflowClient()
    trials = client.search_runs(
        [result.experiment_id], f"tags.mlflow.parentRunId = '{result.run_id}'"
    )
    assert len(trials) == 2
    metric = f"cv_{spec.metric}"
    for trial in trials:
        assert trial.data.tags["lifecycle.step"] == "trial"
        assert set(trial.data.params) == set(spec.space)
        assert metric in trial.data.metrics
    best = max(trials, key=lambda t: t.data.metrics[metric])
    parent = client.get_run(result.run_id)
    assert parent.data.metrics[f"best_{metric}"] == best.data.metrics[metric]
    for key, value in best.data.params.items():
        assert parent.data.params[key] == value
    assert latest_run_id(searching) == result.run_id  # trials are never "the latest run"


def test_search_space_key_the_estimator_lacks_names_the_key(settings):
    spec = settings.model.search.model_copy(update={"enabled": True, "space": {"depth": [1, 2]}})
    wrong = settings.model_copy(
        update={"model": settings.model.model_copy(update={"search": spec})}
    )
    from lifecycle.training.search import candidates

    with pytest.raises(ConfigError, match=r"model\.search\.space\.depth"):
        candidates(wrong)
