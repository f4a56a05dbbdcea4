"""The synthetic data: reproducible, shaped like the settings, each problem doing what it says."""

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from lifecycle import cli
from lifecycle.data import generator
from lifecycle.data.dataset import read_table, schema_problems
from lifecycle.data.generator import generate
from lifecycle.errors import UsageError

ROWS = 20_000


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return generate(ROWS, seed=3)


def test_same_seed_gives_the_same_frame():
    assert_frame_equal(generate(2000, seed=11), generate(2000, seed=11))
    assert not generate(2000, seed=11).equals(generate(2000, seed=12))


def test_columns_and_dtypes_match_the_settings(base, settings):
    assert schema_problems(base, settings) == []
    assert set(base.columns) == set(settings.data.required_columns)
    assert base[settings.data.id_column].is_unique


def test_realistic_shape(base):
    assert 0.19 < base["default"].mean() < 0.25
    for column, share in generator.BASE_NULL_SHARES.items():
        assert base[column].isna().mean() == pytest.approx(share, abs=0.01)
    bands = pd.cut(base["age"], [17, 25, 35, 50, 200], labels=generator.AGE_BANDS)
    assert (bands.astype(str) == base["age_band"]).all()
    assert (
        base["default"]
        .groupby(base["num_late_payments"].clip(upper=3))
        .mean()
        .is_monotonic_increasing
    )


def test_protected_attributes_carry_no_signal_by_default(base):
    for attribute in ("sex", "age_band"):
        rates = base["default"].groupby(base[attribute]).mean()
        assert rates.max() - rates.min() < 0.03, rates


def test_unknown_problem_names_the_allowed_ones():
    with pytest.raises(UsageError, match="choose from drift, bias, nulls, schema, leakage"):
        generate(10, problems="drift,spelling")


def test_drift_shifts_the_named_columns_and_only_those(base):
    drifted = generate(ROWS, seed=3, problems="drift")
    for column in generator.DRIFTED_COLUMNS:
        if pd.api.types.is_numeric_dtype(base[column]):
            assert ks_2samp(base[column].dropna(), drifted[column].dropna()).pvalue < 1e-6, column
    share = (drifted["purpose"] == "debt_consolidation").mean()
    assert share > (base["purpose"] == "debt_consolidation").mean() + 0.15
    untouched = [c for c in base.columns if c not in (*generator.DRIFTED_COLUMNS, "default")]
    assert_frame_equal(drifted[untouched], base[untouched])


def test_drift_is_detectable_against_a_different_sample(base):
    """Against an independent draw, only the drifted columns differ in distribution."""
    other = generate(ROWS, seed=4, problems="drift")
    numeric = [c for c in base.columns if pd.api.types.is_numeric_dtype(base[c])]
    for column in numeric:
        if column == "default":
            continue
        pvalue = ks_2samp(base[column].dropna(), other[column].dropna()).pvalue
        if column in generator.DRIFTED_COLUMNS:
            assert pvalue < 1e-6, column
        else:
            assert pvalue > 1e-3, column


def test_bias_ties_the_labels_to_sex_and_age_band(base):
    biased = generate(ROWS, seed=3, problems="bias")
    by_sex = biased["default"].groupby(biased["sex"]).mean()
    by_band = biased["default"].groupby(biased["age_band"]).mean()
    assert by_sex["female"] - by_sex["male"] > 0.15
    assert by_band["18-25"] - by_band["51+"] > 0.2
    assert (
        biased["income"].groupby(biased["sex"]).median()["female"] < 0.7 * base["income"].median()
    )


def test_bias_makes_a_trained_model_fail_demographic_parity(settings):
    from fairlearn.metrics import demographic_parity_ratio
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from lifecycle.data.dataset import features_and_target, split

    train, test = split(generate(6000, seed=5, problems="bias"), settings)
    numeric = settings.data.features.numeric
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    model.fit(train[numeric], features_and_target(train, settings)[1])
    predicted = model.predict(test[numeric])
    floor = settings.gates.bias.default.demographic_parity_ratio_min
    for attribute in ("sex", "age_band"):
        ratio = demographic_parity_ratio(
            features_and_target(test, settings)[1], predicted, sensitive_features=test[attribute]
        )
        assert ratio < floor, attribute


def test_nulls_blank_large_shares_of_the_named_columns(base):
    holed = generate(ROWS, seed=3, problems="nulls")
    for column, share in generator.NULL_SHARES.items():
        assert holed[column].isna().mean() > share - 0.03, column
    untouched = [c for c in base.columns if c not in generator.NULL_SHARES]
    assert_frame_equal(holed[untouched], base[untouched])


def test_schema_renames_drops_and_retypes(base, settings):
    broken = generate(ROWS, seed=3, problems="schema")
    assert "annual_income" in broken and "income" not in broken
    assert "num_credit_lines" not in broken
    assert not pd.api.types.is_numeric_dtype(broken["age"])
    problems = "\n".join(schema_problems(broken, settings))
    for word in ("income", "num_credit_lines", "annual_income", "'age'"):
        assert word in problems


def test_leakage_adds_a_column_that_gives_the_answer_away(base):
    leaky = generate(ROWS, seed=3, problems="leakage")
    assert roc_auc_score(leaky["default"], leaky[generator.LEAKY_COLUMN]) > 0.97
    assert_frame_equal(leaky.drop(columns=generator.LEAKY_COLUMN), base)


def test_problems_combine(base):
    both = generate(ROWS, seed=3, problems=["nulls", "leakage"])
    assert generator.LEAKY_COLUMN in both
    assert both["income"].isna().mean() > 0.3
    assert_series_equal(both["application_id"], base["application_id"])


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_generate_verb_writes_the_file_atomically(tmp_path, capsys, suffix):
    out = tmp_path / "sub" / f"batch{suffix}"
    argv = ["generate", "--rows", "500", "--seed", "1", "--problems", "drift", "--out", str(out)]
    assert cli.main(argv) == 0
    assert "500 rows" in capsys.readouterr().out
    frame = read_table(out)
    assert len(frame) == 500 and list(frame.columns) == list(generate(5).columns)
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_generate_verb_lists_every_problem():
    from lifecycle.commands import generate as verb

    assert verb.PROBLEMS == generator.PROBLEMS


def test_generate_verb_refuses_unknown_problems_and_suffixes(tmp_path, capsys):
    out = tmp_path / "x.parquet"
    assert cli.main(["generate", "--problems", "typo", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "typo" in err and "drift, bias, nulls, schema, leakage" in err
    assert cli.main(["generate", "--rows", "10", "--out", str(tmp_path / "x.xlsx")]) == 2
    assert ".xlsx" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
