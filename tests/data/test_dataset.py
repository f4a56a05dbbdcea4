"""Loading the data: every problem is exit 2 naming the file or the column, never a traceback."""

import pandas as pd
import pytest

from lifecycle import cli
from lifecycle.data.dataset import features_and_target, load_dataset, split
from lifecycle.data.dvc import data_version
from lifecycle.data.generator import LEAKY_COLUMN, generate
from lifecycle.settings import load_settings


def describe(params, capsys, *extra):
    code = cli.main(["describe", "--params", str(params), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_describe_summarises_good_data(settings, capsys):
    code, out, _ = describe(settings.source, capsys)
    assert code == 0
    assert "rows:          4,000" in out
    assert "positive rate:" in out and "by sex:" in out and "by age_band:" in out
    assert "version:       sha256:" in out


def test_csv_works_like_parquet(settings, small_df, data_file, capsys):
    path = data_file(small_df, "credit.csv")
    code, out, _ = describe(settings.source, capsys, "--data", str(path))
    assert code == 0, out
    pd.testing.assert_frame_equal(load_dataset(settings, path), small_df, check_dtype=False)


def test_data_not_pulled_says_to_pull(params_file, tmp_path, capsys):
    missing = tmp_path / "data" / "nothing.parquet"
    code, _, err = describe(params_file({"data": {"path": str(missing)}}), capsys)
    assert code == 2
    assert f"{missing} not found: run `make data` (dvc pull) first" in err


def test_dvc_placeholder_instead_of_data(settings, capsys):
    settings.data.path.write_text("outs:\n- md5: 0123.dir\n  path: data\n", encoding="utf-8")
    code, _, err = describe(settings.source, capsys)
    assert code == 2
    assert str(settings.data.path) in err and "DVC pointer" in err and "dvc pull" in err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("credit.parquet", b"PAR1 this is not really parquet"),
        ("credit.parquet", b""),
        ("credit.csv", b"\xff\xfe\x00garbage\x00\xff"),
    ],
)
def test_corrupt_file_names_the_file(settings, tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    code, _, err = describe(settings.source, capsys, "--data", str(path))
    assert code == 2
    assert str(path) in err and "cannot be read" in err


def test_unsupported_suffix(settings, small_df, tmp_path, capsys):
    path = tmp_path / "credit.json"
    small_df.to_json(path)
    code, _, err = describe(settings.source, capsys, "--data", str(path))
    assert code == 2 and "'.json'" in err and ".parquet or .csv" in err


def test_missing_columns_are_named(settings, small_df, data_file, capsys):
    path = data_file(small_df.drop(columns=["utilization", "sex"]))
    code, _, err = describe(settings.source, capsys, "--data", str(path))
    assert code == 2
    assert "missing column(s): utilization, sex" in err
    assert str(settings.source) in err


def test_a_column_the_data_lacks_is_named(params_file, capsys):
    numeric = load_settings(params_file()).data.features.numeric
    params = params_file({"data": {"features": {"numeric": [*numeric, "savings"]}}})
    code, _, err = describe(params, capsys)
    assert code == 2 and "missing column(s): savings" in err


def test_extra_columns_are_named_with_the_fix(settings, small_df, data_file, capsys):
    path = data_file(small_df.assign(notes="n/a"))
    code, _, err = describe(settings.source, capsys, "--data", str(path))
    assert code == 2
    assert "extra column(s)" in err and "notes" in err
    assert "list them in data.features" in err and "drop them" in err


def test_an_extra_column_listed_as_a_feature_is_accepted(params_file, data_file, capsys):
    leaky = data_file(generate(1500, seed=2, problems="leakage"), "leaky.parquet")
    numeric = load_settings(params_file()).data.features.numeric
    params = params_file(
        {"data": {"path": str(leaky), "features": {"numeric": [*numeric, LEAKY_COLUMN]}}}
    )
    code, out, _ = describe(params, capsys)
    assert code == 0 and LEAKY_COLUMN in out


@pytest.mark.parametrize(
    ("change", "column", "found"),
    [
        (lambda df: df.assign(age=df["age"].astype(str)), "'age'", "str"),
        (lambda df: df.assign(income=df["income"] > 50_000), "'income'", "bool"),
        (lambda df: df.assign(education=range(len(df))), "'education'", "int64"),
    ],
)
def test_wrong_dtypes_name_the_column_and_dtype(
    settings, small_df, data_file, capsys, change, column, found
):
    path = data_file(change(small_df))
    code, _, err = describe(settings.source, capsys, "--data", str(path))
    assert code == 2
    assert f"column {column} has dtype {found}" in err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda df: df.assign(default=df["default"] + df["age"] % 3), "must be binary"),
        (lambda df: df.assign(default=df["default"].where(df["age"] > 20)), "missing value"),
        (lambda df: df.assign(default=df["default"].map({0: "no", 1: "yes"})), "never equals"),
    ],
)
def test_bad_target_is_named(settings, small_df, data_file, capsys, change, expected):
    path = data_file(change(small_df))
    code, _, err = describe(settings.source, capsys, "--data", str(path))
    assert code == 2
    assert "target 'default'" in err and expected in err


def test_schema_problem_lists_every_difference(settings, data_file, capsys):
    path = data_file(generate(1000, seed=1, problems="schema"))
    code, _, err = describe(settings.source, capsys, "--data", str(path))
    assert code == 2
    for word in ("missing column(s): income, num_credit_lines", "annual_income", "'age'"):
        assert word in err


def test_unlabelled_batches_load_when_the_target_is_not_required(settings, small_df, data_file):
    path = data_file(small_df.drop(columns=[settings.data.target]))
    assert len(load_dataset(settings, path, require_target=False)) == len(small_df)


def test_split_is_deterministic_and_stratified(settings, small_df):
    train, test = split(small_df, settings)
    again, _ = split(small_df, settings)
    pd.testing.assert_frame_equal(train, again)
    assert len(test) == pytest.approx(settings.data.split.test_size * len(small_df), abs=1)
    assert not set(train["application_id"]) & set(test["application_id"])
    assert test["default"].mean() == pytest.approx(train["default"].mean(), abs=0.01)


def test_features_and_target(settings, small_df):
    X, y = features_and_target(small_df, settings)
    assert list(X.columns) == settings.data.features.all
    assert set(y.unique()) == {0, 1} and y.name == settings.data.target
    assert not set(settings.data.protected_attributes) & set(X.columns)


def test_data_version_is_a_content_hash_outside_dvc(settings, small_df, data_file):
    first = data_version(settings)
    assert first.startswith("sha256:") and first == data_version(settings)
    changed = data_file(small_df.head(100))
    assert data_version(settings, changed) != first


# --- labels written in YAML, and what validate checks before any gate runs --------------------


def with_text_target(small_df, data_file, yes="yes", no="no"):
    return data_file(small_df.assign(default=small_df["default"].map({1: yes, 0: no})))


def test_an_unquoted_yes_label_matches_a_text_target(params_file, small_df, data_file, capsys):
    path = with_text_target(small_df, data_file)
    params = params_file({"data": {"path": str(path), "positive_label": "yes"}})
    text = params.read_text(encoding="utf-8")
    params.write_text(text.replace("positive_label: 'yes'", "positive_label: yes"), "utf-8")
    code, out, _ = describe(params, capsys)
    assert code == 0, out
    assert load_settings(params).data.positive_label == "yes"


def test_a_boolean_label_for_a_text_target_says_to_quote_it(
    params_file, small_df, data_file, capsys
):
    path = with_text_target(small_df, data_file, yes="true", no="false")
    params = params_file({"data": {"path": str(path), "positive_label": True}})
    code, _, err = describe(params, capsys)
    assert code == 2
    assert "never equals data.positive_label True" in err
    assert 'the values are text: write it in quotes, positive_label: "true"' in err


def test_a_quoted_number_label_says_to_drop_the_quotes(params_file, capsys):
    params = params_file({"data": {"positive_label": "1"}})
    code, _, err = describe(params, capsys)
    assert code == 2
    assert "the values are numbers: write it without quotes, positive_label: 1" in err


def validate(params, capsys, *extra):
    code = cli.main(["validate", "--params", str(params), *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_validate_refuses_integer_coded_categories_before_the_gates(
    settings, small_df, data_file, capsys
):
    codes = small_df["housing"].map({"rent": 1, "mortgage": 2, "own": 3, "family": 4})
    path = data_file(small_df.assign(housing=codes))
    reports = path.parent / "reports"
    code, _, err = validate(settings.source, capsys, "--data", str(path), "--reports", str(reports))
    assert code == 2
    assert "column 'housing' has dtype int64 but is a categorical feature" in err
    assert "numbers used as codes must be stored as text" in err
    assert not reports.exists(), "a gate ran on data train cannot use"


def test_validate_checks_the_target_against_the_positive_label(
    params_file, small_df, data_file, capsys
):
    path = with_text_target(small_df, data_file)
    code, _, err = validate(params_file({"data": {"path": str(path)}}), capsys)
    assert code == 2
    assert "target 'default'" in err and "never equals data.positive_label 1" in err
