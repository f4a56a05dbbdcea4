"""Drift statistics, vectorised: PSI, Kolmogorov-Smirnov, chi-square and a domain classifier.

- **PSI** (population stability index) compares the shares of values in bins: for numbers, the
  reference's deciles; for categories, the categories. ``sum((cur - ref) * ln(cur / ref))``;
  under 0.1 is usually read as stable, 0.1 to 0.25 as a moderate shift, over 0.25 as a major one.
- **KS** (numbers) and **chi-square** (categories) say whether a difference could be chance; with
  large samples they call every tiny shift significant, with small ones PSI is noisy: a feature
  drifts when both agree (PSI above ``psi_max`` and p-value below ``p_value_min``).
- **Domain classifier**: a quick model told to separate reference rows from current rows. Its
  ROC AUC is 0.5 when it cannot (no drift) and rises with any shift, including one in how features
  combine that no single feature shows.

Missing values are left out of the distributions; their share is checked on its own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

BINS = 10
EPSILON = 1e-4  # floor for an empty bin's share, so PSI stays finite
DOMAIN_SAMPLE = 5000  # rows per side for the domain classifier
MAX_CATEGORIES = 250  # the domain classifier's native categorical limit (255 bins)


@dataclass(frozen=True)
class FeatureDrift:
    """How one feature moved between the reference and the current window."""

    feature: str
    kind: str  # numeric | categorical
    test: str  # ks | chi2
    statistic: float | None
    p_value: float | None
    psi: float | None
    missing_reference: float
    missing_current: float
    drifted: bool
    missing_broken: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def psi_from_shares(expected: NDArray[Any], actual: NDArray[Any]) -> float:
    expected = np.clip(np.asarray(expected, dtype=float), EPSILON, None)
    actual = np.clip(np.asarray(actual, dtype=float), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def quantile_edges(values: NDArray[Any], bins: int = BINS) -> NDArray[Any]:
    """Inner bin edges at the reference's quantiles (ties merged, so discrete values work)."""
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))


def bin_shares(values: NDArray[Any], edges: NDArray[Any]) -> NDArray[Any]:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def numeric_psi(reference: NDArray[Any], current: NDArray[Any], bins: int = BINS) -> float:
    edges = quantile_edges(reference, bins)
    return psi_from_shares(bin_shares(reference, edges), bin_shares(current, edges))


def _missing(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """The share of missing values in each (an empty window counts as all missing)."""
    current_share = float(current.isna().mean()) if len(current) else 1.0
    return float(reference.isna().mean()), current_share


def numeric_drift(
    name: str, reference: pd.Series, current: pd.Series, psi_max: float, p_value_min: float
) -> FeatureDrift:
    """PSI on reference deciles plus a two-sample KS test, on the non-missing values."""
    from scipy.stats import ks_2samp

    missing = _missing(reference, current)
    ref = reference.to_numpy(dtype=float, na_value=np.nan)
    cur = current.to_numpy(dtype=float, na_value=np.nan)
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if not len(ref) or not len(cur):
        return FeatureDrift(
            name, "numeric", "ks", None, None, None, *missing, False, note="no values to compare"
        )
    test = ks_2samp(ref, cur)
    psi = numeric_psi(ref, cur)
    drifted = bool(psi > psi_max and test.pvalue < p_value_min)
    return FeatureDrift(
        name, "numeric", "ks", float(test.statistic), float(test.pvalue), psi, *missing, drifted
    )


def category_counts(values: pd.Series) -> pd.Series:
    counts = values.value_counts(dropna=True)
    counts.index = counts.index.astype(str)
    return counts.groupby(level=0).sum()


def categorical_drift(
    name: str, reference: pd.Series, current: pd.Series, psi_max: float, p_value_min: float
) -> FeatureDrift:
    """PSI on the categories' shares plus a chi-square test of the 2 x categories table."""
    from scipy.stats import chi2_contingency

    missing = _missing(reference, current)
    table = pd.concat([category_counts(reference), category_counts(current)], axis=1).fillna(0)
    counts = table.to_numpy(dtype=float).T  # row 0: reference, row 1: current
    if counts.sum(axis=1).min() == 0:
        return FeatureDrift(
            name,
            "categorical",
            "chi2",
            None,
            None,
            None,
            *missing,
            False,
            note="no values to compare",
        )
    shares = counts / counts.sum(axis=1, keepdims=True)
    psi = psi_from_shares(shares[0], shares[1])
    if counts.shape[1] < 2:
        statistic, p_value = 0.0, 1.0
    else:
        test = chi2_contingency(counts)
        statistic, p_value = float(test.statistic), float(test.pvalue)
    new = [str(c) for c, n in zip(table.index, counts[0], strict=True) if n == 0]
    note = f"categories unseen in the reference: {', '.join(new[:5])}" if new else ""
    drifted = bool(psi > psi_max and p_value < p_value_min)
    return FeatureDrift(
        name, "categorical", "chi2", statistic, p_value, psi, *missing, drifted, note=note
    )


def domain_auc(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    seed: int = 0,
) -> float:
    """Holdout ROC AUC of a classifier separating current rows from reference rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    n = min(len(reference), len(current), DOMAIN_SAMPLE)
    frame = pd.concat(
        [reference.sample(n, random_state=seed), current.sample(n, random_state=seed)],
        ignore_index=True,
    )
    X, native = _encode(frame, numeric, categorical)
    y = np.repeat([0, 1], n)
    X_fit, X_test, y_fit, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    model = HistGradientBoostingClassifier(
        max_iter=50, categorical_features=native or None, early_stopping=False, random_state=seed
    )
    with one_thread():
        model.fit(X_fit, y_fit)
        return float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))


def one_thread() -> Any:
    """OpenMP on one thread: a small model gains little from more, and on a busy machine (a
    shared 2-core runner) spinning threads turn a second's work into a minute's."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _encode(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> tuple[NDArray[Any], list[int]]:
    """Numbers as floats, categories as integer codes (missing stays missing)."""
    columns, native = [], []
    for column in numeric:
        columns.append(pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float))
    for column in categorical:
        codes = pd.Categorical(frame[column].astype("string")).codes.astype(float)
        codes[codes < 0] = np.nan
        if np.nanmax(codes, initial=0) < MAX_CATEGORIES:
            native.append(len(columns))
        columns.append(codes)
    return np.column_stack(columns), native
