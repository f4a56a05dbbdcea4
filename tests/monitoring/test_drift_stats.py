"""The drift statistics on plain arrays: PSI, the tests, and the rule that needs both."""

import numpy as np
import pandas as pd

from lifecycle.monitoring import stats

RNG = np.random.default_rng(0)


def test_psi_is_zero_for_the_same_shares_and_grows_with_the_shift():
    values = RNG.normal(0, 1, 20_000)

    assert stats.numeric_psi(values, values) == 0
    small, large = (stats.numeric_psi(values, values + shift) for shift in (0.1, 0.5))
    assert 0 < small < 0.1 < large


def test_discrete_values_share_bins_without_empty_edges():
    values = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 5], dtype=float)

    edges = stats.quantile_edges(values)

    assert list(edges) == sorted(set(edges))
    assert stats.bin_shares(values, edges).sum() == 1


def test_a_feature_drifts_only_when_the_shift_is_both_material_and_significant():
    reference = pd.Series(RNG.normal(0, 1, 5000))
    few = pd.Series(RNG.normal(0.3, 1, 20))  # material, but too few rows to be sure
    many = pd.Series(RNG.normal(0.02, 1, 5000))  # significant-ish, but immaterial
    shifted = pd.Series(RNG.normal(0.5, 1, 5000))

    judged = {
        name: stats.numeric_drift(name, reference, current, psi_max=0.1, p_value_min=0.01)
        for name, current in (("few", few), ("many", many), ("shifted", shifted))
    }

    assert [name for name, f in judged.items() if f.drifted] == ["shifted"]
    assert judged["shifted"].p_value < 0.01 and judged["shifted"].psi > 0.1


def test_categories_unseen_in_the_reference_are_named():
    reference = pd.Series(["a"] * 500 + ["b"] * 500 + [None] * 10)
    current = pd.Series(["a"] * 300 + ["b"] * 300 + ["c"] * 400)

    found = stats.categorical_drift("x", reference, current, psi_max=0.1, p_value_min=0.01)

    assert found.drifted and "c" in found.note
    assert found.missing_reference > 0 and found.missing_current == 0


def test_the_domain_classifier_cannot_tell_a_sample_from_itself():
    frame = pd.DataFrame({"n": RNG.normal(0, 1, 4000), "c": RNG.choice(["x", "y"], 4000)})
    other = pd.DataFrame({"n": RNG.normal(0, 1, 4000), "c": RNG.choice(["x", "y"], 4000)})
    moved = other.assign(n=other["n"] + 1)

    assert stats.domain_auc(frame, other, ["n"], ["c"]) < 0.6
    assert stats.domain_auc(frame, moved, ["n"], ["c"]) > 0.65
