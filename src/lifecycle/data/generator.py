"""A seeded generator of credit-default applications, at any size, with optional injected problems.

The default data is realistic and fair: the chance of default is driven by late payments,
utilization, debt-to-income, the loan's size against income, employment length and the loan's
purpose, plus an unobserved "financial stress" factor, so no model is perfect (gradient boosting
reaches ROC AUC about 0.83). Sex has no effect at all. Age shapes income, employment length and
the number of credit lines, whose effects cancel: every age band defaults at the same rate.

Problems, each made for a gate that must catch it:

- ``drift``: covariate shift in ``DRIFTED_COLUMNS`` (lower income, higher utilization and
  debt-to-income, bigger loans, more debt consolidation). Every other column is drawn exactly as
  without drift. Labels follow the shifted features (the concept stays the same).
- ``bias``: historical labels that depend on sex and age band, and women's incomes cut (a proxy
  the model can learn), so a model trained on it fails demographic parity.
- ``nulls``: large shares of missing values, see ``NULL_SHARES``.
- ``schema``: ``income`` renamed ``annual_income``, ``num_credit_lines`` dropped, ``age`` as text.
- ``leakage``: an extra column, ``LEAKY_COLUMN``, known only after the outcome, that encodes it.

The same seed always gives the same frame; extra problems draw from their own random streams,
so the columns a problem does not touch are identical to the ones drawn without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from lifecycle.errors import UsageError

PROBLEMS = ("drift", "bias", "nulls", "schema", "leakage")
DRIFTED_COLUMNS = ("income", "utilization", "debt_to_income", "loan_amount", "purpose")
NULL_SHARES = {"income": 0.35, "months_employed": 0.30, "debt_to_income": 0.30, "education": 0.25}
BASE_NULL_SHARES = {"income": 0.04, "months_employed": 0.03, "marital_status": 0.02}
LEAKY_COLUMN = "days_past_due_at_collection"
SCHEMA_RENAMED = {"income": "annual_income"}
SCHEMA_DROPPED = ("num_credit_lines",)

AGE_BANDS = ("18-25", "26-35", "36-50", "51+")
AGE_BAND_SHARES = (0.22, 0.28, 0.28, 0.22)
EDUCATION = ("high_school", "vocational", "bachelor", "master", "doctorate")
MARITAL = ("single", "married", "divorced", "widowed")
HOUSING = ("rent", "mortgage", "own", "family")
PURPOSES = (
    "debt_consolidation", "credit_card", "home_improvement", "car", "education", "medical",
    "business",
)  # fmt: skip
PURPOSE_SHARES = (0.30, 0.18, 0.14, 0.16, 0.07, 0.07, 0.08)
PURPOSE_RISK = (0.20, 0.10, -0.20, -0.15, 0.05, 0.25, 0.35)
PURPOSE_LOAN_SIZE = (-0.1, -0.1, 0.15, 0.1, -0.1, -0.1, 0.25)
HOUSING_RISK = (0.03, -0.03, -0.05, 0.03)
EDUCATION_INCOME = (0.0, 0.08, 0.30, 0.45, 0.60)
SEXES = ("female", "male")
CATEGORIES = {
    "age_band": AGE_BANDS,
    "sex": SEXES,
    "education": EDUCATION,
    "marital_status": MARITAL,
    "housing": HOUSING,
    "purpose": PURPOSES,
}
COLUMNS = (
    "application_id", "age", "age_band", "sex", "income", "months_employed", "credit_limit",
    "loan_amount", "debt_to_income", "utilization", "num_late_payments", "num_credit_lines",
    "education", "marital_status", "housing", "purpose", "default",
)  # fmt: skip
INTERCEPT = -4.5  # sets the share of defaults to about 22 % on the default data


def parse_problems(problems: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"drift,bias"`` or ``["drift", "bias"]`` -> ("drift", "bias"). Unknown names: UsageError."""
    if problems is None:
        return ()
    names = problems.split(",") if isinstance(problems, str) else list(problems)
    names = [name.strip() for name in names if name.strip()]
    unknown = [name for name in names if name not in PROBLEMS]
    if unknown:
        raise UsageError(
            f"unknown problem(s) {', '.join(unknown)}: choose from {', '.join(PROBLEMS)}"
        )
    return tuple(dict.fromkeys(names))


def generate(rows: int, seed: int = 42, problems: str | Iterable[str] | None = ()) -> pd.DataFrame:
    """A frame of ``rows`` credit applications; the same seed always gives the same frame."""
    chosen = parse_problems(problems)
    if rows < 1:
        raise UsageError(f"rows must be at least 1 (got {rows})")
    rng = np.random.default_rng(seed)
    cols = _applicants(rng, rows)
    cols.update(_finances(rng, cols))
    if "bias" in chosen:  # a proxy the model can learn: women's incomes cut
        cols["income"] = np.round(cols["income"] * np.where(cols["sex"] == 0, 0.6, 1.0), 0)
    if "drift" in chosen:
        _drift(cols, _stream(seed, "drift"))
    logit = _risk(cols) + 0.7 * cols.pop("_stress")
    if "bias" in chosen:
        logit += _bias_risk(cols)
    cols["default"] = (rng.random(rows) < _sigmoid(logit)).astype(np.int64)
    _blank(cols, BASE_NULL_SHARES, rng)
    if "nulls" in chosen:
        _blank(cols, NULL_SHARES, _stream(seed, "nulls"))
    frame = _to_frame(cols)
    if "leakage" in chosen:
        frame[LEAKY_COLUMN] = _leak(cols["default"], _stream(seed, "leakage"))
    if "schema" in chosen:
        frame = _break_schema(frame)
    return frame


def _stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per problem, so problems never disturb the base draws."""
    return np.random.default_rng([seed, PROBLEMS.index(name) + 1])


def _applicants(rng: np.random.Generator, n: int) -> dict[str, NDArray[Any]]:
    """Who applies. Categorical columns are integer codes into ``CATEGORIES`` until the end."""
    band = rng.choice(len(AGE_BANDS), n, p=AGE_BAND_SHARES)
    low, width = np.array([18, 26, 36, 51])[band], np.array([8, 10, 15, 1])[band]
    old = np.minimum(rng.gamma(1.5, 8.0, n), 34)  # 51 and over: a long thinning tail
    age = (low + np.where(band == 3, old, rng.random(n) * width)).astype(np.int64)
    single = np.clip(1.15 - age / 40, 0.10, 0.85)
    widowed = np.clip((age - 55) / 120, 0, 0.20)
    divorced = np.where(age > 30, 0.12, 0.03)
    u = rng.random(n)
    marital = np.select(
        [u < single, u < single + divorced, u < single + divorced + widowed], [0, 2, 3], 1
    )
    owns = np.clip((age - 22) / 40, 0.02, 0.75)
    v = rng.random(n)
    return {
        "age": age,
        "age_band": band,
        "sex": (rng.random(n) < 0.5).astype(np.int64),
        "education": rng.choice(len(EDUCATION), n, p=[0.30, 0.20, 0.30, 0.15, 0.05]),
        "marital_status": marital,
        "housing": np.select(
            [v < owns * 0.55, v < owns, v < owns + (1 - owns) * 0.8], [2, 1, 0], 3
        ),
        "purpose": rng.choice(len(PURPOSES), n, p=PURPOSE_SHARES),
    }


def _finances(rng: np.random.Generator, cols: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """Income, credit and repayment history; ``_stress`` is a risk factor no one observes."""
    n = len(cols["age"])
    years = cols["age"] - 18
    seniority = 1 - np.exp(-years / 15)  # income and credit history grow, then level off
    edu = np.asarray(EDUCATION_INCOME)[cols["education"]]
    income = np.exp(np.log(36_000) + edu + 0.35 * seniority + rng.normal(0, 0.45, n))
    stress = rng.normal(0, 1, n)
    employed = np.minimum(rng.exponential(30 + 2.5 * years, n), np.maximum(years, 1) * 12.0)
    lines = rng.poisson(2 + 3 * seniority, n) + 1
    utilization = np.clip(rng.beta(2, 4, n) + 0.08 * stress, 0, 1)
    late = rng.poisson(np.exp(-0.9 + 0.6 * stress + 1.2 * (utilization - 0.33)))
    dti = np.clip(rng.gamma(3, 0.09, n) + 0.04 * stress, 0.0, 1.5)
    size = np.asarray(PURPOSE_LOAN_SIZE)[cols["purpose"]]
    loan = np.round(income * np.exp(-1.6 + size + rng.normal(0, 0.5, n)), -2) + 500
    limit = np.round(income * np.exp(-1.4 + rng.normal(0, 0.35, n)), -2) + 500
    return {
        "income": np.round(income, 0),
        "months_employed": np.round(employed, 0),
        "credit_limit": limit,
        "loan_amount": loan,
        "debt_to_income": np.round(dti, 4),
        "utilization": np.round(utilization, 4),
        "num_late_payments": late.astype(np.int64),
        "num_credit_lines": lines.astype(np.int64),
        "_stress": stress,
    }


def _risk(cols: dict[str, NDArray[Any]]) -> NDArray[Any]:
    """The log-odds of default given the observed features (no protected attribute)."""
    burden = np.minimum(cols["loan_amount"] / cols["income"], 1.5)
    return (
        INTERCEPT
        + 0.75 * np.minimum(cols["num_late_payments"], 6)
        + 4.5 * cols["utilization"] ** 2
        + 3.5 * cols["debt_to_income"]
        + 1.9 * burden
        - 0.25 * np.log(cols["income"] / 40_000)
        - 0.003 * np.minimum(cols["months_employed"], 60)
        + 0.08 * np.minimum(cols["num_credit_lines"], 10)
        + np.asarray(PURPOSE_RISK)[cols["purpose"]]
        + np.asarray(HOUSING_RISK)[cols["housing"]]
    )


def _bias_risk(cols: dict[str, NDArray[Any]]) -> NDArray[Any]:
    """Labels that penalise women and the young, as biased historical decisions would."""
    band = np.asarray([1.4, 0.5, 0.0, -0.4])[cols["age_band"]]
    return band + np.where(cols["sex"] == 0, 1.2, 0.0)


def _drift(cols: dict[str, NDArray[Any]], rng: np.random.Generator) -> None:
    """A downturn: less income, fuller cards, more debt, bigger loans, more consolidation."""
    cols["income"] = np.round(cols["income"] * 0.8, 0)
    cols["utilization"] = np.round(np.clip(cols["utilization"] + 0.1, 0, 1), 4)
    cols["debt_to_income"] = np.round(np.clip(cols["debt_to_income"] * 1.2 + 0.03, 0, 1.5), 4)
    cols["loan_amount"] = np.round(cols["loan_amount"] * 1.3, -2)
    consolidate = rng.random(len(cols["purpose"])) < 0.3
    cols["purpose"] = np.where(consolidate, PURPOSES.index("debt_consolidation"), cols["purpose"])


def _sigmoid(x: NDArray[Any]) -> NDArray[Any]:
    return 1.0 / (1.0 + np.exp(-x))


def _blank(
    cols: dict[str, NDArray[Any]], shares: dict[str, float], rng: np.random.Generator
) -> None:
    """Set about ``share`` of each named column to missing (code -1 for categorical columns)."""
    for column, share in shares.items():
        mask = rng.random(len(cols[column])) < share
        cols[column][mask] = -1 if column in CATEGORIES else np.nan


def _to_frame(cols: dict[str, NDArray[Any]]) -> pd.DataFrame:
    """Codes become strings (missing stays missing); columns come in the documented order."""
    n = len(cols["age"])
    data: dict[str, object] = {"application_id": _ids(n)}
    for column in COLUMNS[1:]:
        values = cols[column]
        if column in CATEGORIES:
            labels = pa.DictionaryArray.from_arrays(
                pa.array(values, mask=values < 0), pa.array(CATEGORIES[column])
            )
            values = labels.cast(pa.string()).to_pandas()
        data[column] = values
    return pd.DataFrame(data)


def _ids(n: int) -> pd.Series:
    """Unique ids: A0000001, A0000002, ..."""
    width = max(7, len(str(n)))
    digits = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    return pc.binary_join_element_wise(
        "A", pc.utf8_lpad(digits, width=width, padding="0"), ""
    ).to_pandas()


def _leak(target: NDArray[Any], rng: np.random.Generator) -> NDArray[Any]:
    """Days past due when the account went to collection: only known after the outcome."""
    n = len(target)
    late = rng.integers(31, 181, n)
    noise = np.where(rng.random(n) < 0.03, rng.integers(1, 30, n), 0)
    return np.where(target == 1, late, noise).astype(np.int64)


def _break_schema(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.rename(columns=SCHEMA_RENAMED).drop(columns=list(SCHEMA_DROPPED))
    frame["age"] = frame["age"].astype(str)
    return frame
