"""`lifecycle score`: batch scoring with a version from a real (embedded) registry.

One quick model is trained and registered once for the module; each test scores its own input
(parquet, CSV, a folder, an fsspec URL) and reads back what was written.
"""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fixtures import write_params
from lifecycle import cli
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate
from lifecycle.registry import models
from lifecycle.serving.batch import REJECTED_SUFFIX, ROW
from lifecycle.settings import load_settings
from lifecycle.training.fit import train
from lifecycle.training.model import model_input, positive_proba

pytestmark = pytest.mark.slow  # trains and registers a model once, then scores files
ID = "application_id"
ROWS = 3000
CHUNK = 500


@pytest.fixture(scope="module")
def registered(module_tracking):
    """Settings whose model has one registered version (alias candidate)."""
    data = write_table(generate(2000, seed=5), module_tracking / "train.parquet")
    overrides = {"model": {"params": {"max_iter": 20}}}
    settings = load_settings(write_params(module_tracking / "params.yaml", data, overrides))
    models.register(settings, train(settings).run_id)
    return settings


@pytest.fixture
def score(registered, monkeypatch, tmp_path):
    """score(input, output, *flags) -> exit code of `lifecycle score` (version 1 by default)."""
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))

    def run(source, target, *flags):
        which = [] if "--alias" in flags else ["--version", "1"]
        args = ["score", "--params", str(registered.source), "--input", str(source)]
        return cli.main([*args, "--output", str(target), *which, *flags])

    return run


def batch(seed=9, rows=ROWS):
    return generate(rows, seed=seed).drop(columns=["default"])


def test_a_parquet_file_is_scored_in_chunks_as_the_model_scores_it(
    registered, score, tmp_path, capsys
):
    frame = batch()
    source = write_table(frame, tmp_path / "in.parquet")
    target = tmp_path / "out" / "scores.parquet"

    assert score(source, target, "--chunk-rows", str(CHUNK)) == 0

    out = pd.read_parquet(target)
    assert list(out.columns) == [ID, "probability", "prediction", "model_version"]
    assert out[ID].tolist() == frame[ID].tolist()
    model = models.load_model(registered, "1")
    expected = positive_proba(model, model_input(frame, registered))
    np.testing.assert_allclose(out["probability"], expected, rtol=1e-9)
    assert set(out["prediction"]) <= {0, 1} and set(out["model_version"]) == {"1"}
    written = pq.ParquetFile(target).metadata  # one row group per chunk: memory held a chunk
    assert written.num_row_groups == ROWS // CHUNK
    assert max(written.row_group(i).num_rows for i in range(written.num_row_groups)) == CHUNK
    assert pd.read_parquet(f"{target}{REJECTED_SUFFIX}").empty
    captured = capsys.readouterr()
    assert captured.err.count(f"of {ROWS:,} rows") == ROWS // CHUNK
    assert f"{ROWS:,} scored" in captured.out
    assert not list(target.parent.glob("*.partial"))


def test_bad_rows_in_a_csv_are_rejected_with_their_ids_and_reasons(score, tmp_path, capsys):
    frame = batch().astype({"age": object, "income": object})
    frame.loc[3, "age"] = 5  # below the contract's minimum
    frame.loc[7, "education"] = "astrology"  # not an allowed category
    frame.loc[10, "income"] = "lots"  # not a number
    frame.loc[12, "age"] = 30.5  # not an integer
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    target = tmp_path / "scores.parquet"

    assert score(source, target, "--chunk-rows", "1000") == 0

    out = pd.read_parquet(target)
    rejected = pd.read_parquet(f"{target}{REJECTED_SUFFIX}")
    bad_ids = frame.loc[[3, 7, 10, 12], ID].tolist()
    assert rejected[ID].tolist() == bad_ids
    reasons = dict(zip(rejected[ID], rejected["reason"], strict=True))
    assert "age=" in reasons[bad_ids[0]] and "below the minimum 18" in reasons[bad_ids[0]]
    assert "education='astrology': is not one of" in reasons[bad_ids[1]]
    assert "income='lots': is not a number" in reasons[bad_ids[2]]
    assert "is not an integer" in reasons[bad_ids[3]]
    assert len(out) == ROWS - 4 and not set(out[ID]) & set(bad_ids)
    assert "4 rejected" in capsys.readouterr().out


def test_bad_rows_across_chunks_keep_their_order_and_every_reason(registered, score, tmp_path):
    """Chunks are scored several at once: the outputs still follow the input's order, and a row
    bad in two features names both, in the features' order."""
    frame = batch()
    bad = [10, 600, 601, 1499, 2999]  # in the first, second, third and last chunks
    frame.loc[bad, "utilization"] = 3.0
    frame.loc[601, "education"] = "astrology"
    frame.loc[1499, "income"] = np.nan  # allowed: only utilization is bad in this row
    source = write_table(frame, tmp_path / "in.parquet")
    target = tmp_path / "scores.parquet"

    assert score(source, target, "--chunk-rows", str(CHUNK)) == 0

    rejected = pd.read_parquet(f"{target}{REJECTED_SUFFIX}")
    assert rejected[ID].tolist() == frame.loc[bad, ID].tolist()
    reasons = rejected["reason"].tolist()
    assert reasons[0] == "utilization=3.0: is above the maximum 1"
    assert reasons[2] == (
        "utilization=3.0: is above the maximum 1; education='astrology': is not one of "
        "high_school, vocational, bachelor, master, doctorate"
    )
    out = pd.read_parquet(target)
    good = frame.drop(index=bad)
    assert out[ID].tolist() == good[ID].tolist()
    expected = positive_proba(models.load_model(registered, "1"), model_input(good, registered))
    np.testing.assert_allclose(out["probability"], expected, rtol=1e-9)


def test_categorical_columns_in_a_parquet_file_are_read_as_text(registered, score, tmp_path):
    frame = batch(rows=600)
    stored = frame.astype({"education": "category", "housing": "category"})
    source = write_table(stored, tmp_path / "in.parquet")  # read back as pandas categoricals
    target = tmp_path / "scores.parquet"

    assert score(source, target) == 0

    out = pd.read_parquet(target)
    expected = positive_proba(models.load_model(registered, "1"), model_input(frame, registered))
    np.testing.assert_allclose(out["probability"], expected, rtol=1e-9)


def test_a_folder_without_ids_is_scored_in_order_with_row_numbers(score, tmp_path):
    folder = tmp_path / "batch"
    parts = [batch(seed, 700).drop(columns=[ID]) for seed in (1, 2)]
    write_table(parts[0], folder / "a.parquet")
    parts[1].to_csv(folder / "b.csv", index=False)
    target = tmp_path / "scores.parquet"

    assert score(folder, target, "--alias", "candidate", "--chunk-rows", "300") == 0

    out = pd.read_parquet(target)
    assert out[ROW].tolist() == list(range(1400))


def test_fsspec_urls_in_and_out(score, tmp_path):
    import fsspec

    memory = fsspec.filesystem("memory")
    with memory.open("/batch/in.parquet", "wb") as handle:
        batch(rows=800).to_parquet(handle)
    try:
        assert score("memory://batch/in.parquet", "memory://scored/out.parquet") == 0
        with memory.open("/scored/out.parquet", "rb") as handle:
            assert len(pd.read_parquet(handle)) == 800
        assert memory.exists("/scored/out.parquet" + REJECTED_SUFFIX)
    finally:
        memory.rm("/", recursive=True)


def test_no_valid_row_fails_and_writes_nothing(score, tmp_path, capsys):
    frame = batch(rows=400)
    frame["utilization"] = 7.0  # above the maximum 1 on every row
    source = write_table(frame, tmp_path / "in.parquet")
    target = tmp_path / "out" / "scores.parquet"

    assert score(source, target, "--chunk-rows", "100") == 2

    error = capsys.readouterr().err
    assert "none of the 400 rows" in error and "utilization (400)" in error
    assert "Traceback" not in error
    assert not list(target.parent.iterdir())


def test_an_unreadable_file_after_a_good_one_leaves_no_output(score, tmp_path, capsys):
    folder = tmp_path / "batch"
    write_table(batch(rows=600), folder / "a.parquet")
    broken = batch(rows=600).to_csv(index=False) + '"a quote never closed,1,2\n'
    (folder / "b.csv").write_text(broken)
    target = tmp_path / "out" / "scores.parquet"

    assert score(folder, target, "--chunk-rows", "200") == 2

    error = capsys.readouterr().err
    assert "scored 600 rows" in error  # the first file was scored and written, then removed
    assert "b.csv cannot be read" in error and "Traceback" not in error
    assert not list(target.parent.iterdir())


def test_a_file_that_is_not_parquet_is_named(score, tmp_path, capsys):
    (tmp_path / "in.parquet").write_bytes(b"not parquet at all")
    assert score(tmp_path / "in.parquet", tmp_path / "scores.parquet") == 2
    assert "in.parquet cannot be read" in capsys.readouterr().err
    assert not list(tmp_path.glob("scores*"))


def test_a_missing_feature_or_id_column_is_named(score, tmp_path, capsys):
    source = write_table(batch(rows=100).drop(columns=["income"]), tmp_path / "in.parquet")
    assert score(source, tmp_path / "scores.parquet") == 2
    assert "lacks the column(s) income" in capsys.readouterr().err

    source = write_table(batch(rows=100), tmp_path / "in2.parquet")
    assert score(source, tmp_path / "scores.parquet", "--id-column", "customer") == 2
    assert "lacks the column(s) customer" in capsys.readouterr().err
    assert not list(tmp_path.glob("scores*"))


def test_an_unknown_alias_is_a_registry_error(score, tmp_path, capsys):
    source = write_table(batch(rows=100), tmp_path / "in.parquet")
    assert score(source, tmp_path / "scores.parquet", "--alias", "nightly") == 2
    assert "no alias 'nightly'" in capsys.readouterr().err


# the generated target's 1/0 stored as another kind of label, and the positive label
TARGETS = {
    "text": ({1: "yes", 0: "no"}, "yes"),
    "boolean": ({1: True, 0: False}, True),
    "integers 1/2": ({1: 2, 0: 1}, 2),
}


@pytest.mark.parametrize("kind", TARGETS)
def test_scores_carry_the_target_s_own_labels(registered, module_tracking, tmp_path, kind):
    """The registered model's data with its target stored as text, booleans or 1/2: the same
    model is fitted (1 stands for the positive label), and the scores name the labels."""
    mapping, positive = TARGETS[kind]
    frame = generate(2000, seed=5)  # the data of `registered`, whose target is 0/1
    frame["default"] = frame["default"].map(mapping)
    data = write_table(frame, tmp_path / "train.parquet")
    overrides = {"model": {"name": f"labels-{kind.split()[0]}", "params": {"max_iter": 20}},
                 "data": {"positive_label": positive}}  # fmt: skip
    settings = load_settings(write_params(tmp_path / "params.yaml", data, overrides))
    assert settings.data.positive_label == positive
    assert type(settings.data.positive_label) is type(positive)
    models.register(settings, train(settings).run_id)
    source = write_table(batch(rows=800), tmp_path / "in.parquet")
    target = tmp_path / "scores.parquet"

    args = ["score", "--params", str(settings.source), "--input", str(source)]
    assert cli.main([*args, "--output", str(target), "--version", "1"]) == 0

    out = pd.read_parquet(target)
    assert set(out["prediction"]) == set(mapping.values())
    assert ((out["prediction"] == positive) == (out["probability"] > 0.5)).all()
    kinds = {"text": pd.api.types.is_string_dtype, "boolean": pd.api.types.is_bool_dtype,
             "integers 1/2": pd.api.types.is_integer_dtype}  # fmt: skip
    assert kinds[kind](out["prediction"]), out["prediction"].dtype
    zero_one = models.load_model(registered, "1")
    expected = positive_proba(zero_one, model_input(batch(rows=800), registered))
    np.testing.assert_allclose(out["probability"], expected, rtol=1e-9)
