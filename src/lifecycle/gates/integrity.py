"""deepchecks suites as gates: data integrity and train-test validation, model evaluation.

deepchecks never exits non-zero: its checks carry conditions that pass, warn or fail. Here each
condition becomes a gate result (a warning does not fail), a check that crashes is a failed
result, and the suite's HTML report is saved for upload as an artifact. The checks are a chosen
subset, not the full default suites, to keep a 2-core CI runner fast.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lifecycle.errors import DataError
from lifecycle.gates.registry import Context, Gate
from lifecycle.gates.result import GateReport, GateResult
from lifecycle.settings import Settings

NAME = "integrity"
# reads the measured value behind a check's condition out of its result, for the gate table
Reader = Callable[[Any], Any]


def dataset(frame: pd.DataFrame, settings: Settings, extra: Sequence[str] = ()) -> Any:
    """A deepchecks Dataset of the features (plus ``extra`` columns) and the 0/1 label."""
    from deepchecks.tabular import Dataset

    from lifecycle.data.dataset import features_and_target
    from lifecycle.training.model import model_input

    X, y = features_and_target(frame, settings)
    data = model_input(X, settings)
    for column in extra:
        data[column] = frame[column].to_numpy()
    categorical = [*settings.data.features.categorical, *extra]
    label = settings.data.target
    return Dataset(data.assign(**{label: y.to_numpy()}), label=label, cat_features=categorical)


def run_integrity(
    frame: pd.DataFrame, settings: Settings, out_dir: Path | None = None
) -> GateReport:
    """Leakage, conflicting labels, label balance and train-test drift on the data to train on."""
    from lifecycle.data.dataset import split

    gate = settings.gates.integrity
    if gate.mode == "off":
        return GateReport(NAME, gate.mode)
    data = settings.data
    missing = [c for c in [*data.features.all, data.target] if c not in frame.columns]
    try:
        if missing:
            raise DataError(f"column(s) {', '.join(missing)} missing")
        train, test = split(frame, settings)
        train_dataset, test_dataset = dataset(train, settings), dataset(test, settings)
    except DataError as exc:
        message = f"cannot run: {exc} (see the data gate)"
        result = GateResult("suite", "data usable", False, True, False, {"message": message})
        return GateReport(NAME, gate.mode, (result,))
    results = run_suite(
        "Data integrity and train-test validation",
        integrity_checks(settings),
        train_dataset=train_dataset,
        test_dataset=test_dataset,
        html=out_dir / f"{NAME}.html" if out_dir else None,
    )
    note = f"{len(train)} train rows and {len(test)} test rows (data.split)"
    return GateReport(NAME, gate.mode, tuple(results), note=note)


def integrity_checks(settings: Settings) -> list[tuple[Any, Reader, Any]]:
    """(check with one condition, value reader, threshold) for the integrity suite."""
    from deepchecks.tabular import checks

    gate = settings.gates.integrity
    drift = gate.max_drift_score
    leakage = checks.FeatureLabelCorrelation(n_top_features=5)
    leakage.add_condition_feature_pps_less_than(gate.max_feature_pps)
    conflicts = checks.ConflictingLabels(n_to_show=5)
    conflicts.add_condition_ratio_of_conflicting_labels_less_or_equal(gate.max_conflicting_share)
    balance = checks.ClassImbalance()
    balance.add_condition(
        f"The rarest label's share is at least {gate.min_label_share}",
        _min_share_condition(gate.min_label_share),
    )
    change = checks.FeatureLabelCorrelationChange(n_top_features=5)
    change.add_condition_feature_pps_difference_less_than(gate.max_pps_change)
    features = checks.FeatureDrift(n_top_columns=5)
    features.add_condition_drift_score_less_than(drift, drift)
    label = checks.LabelDrift()
    label.add_condition_drift_score_less_than(drift)
    return [
        (leakage, _top, gate.max_feature_pps),
        (conflicts, lambda v: v["percent_of_conflicting_samples"], gate.max_conflicting_share),
        (balance, lambda v: min(v.values()), gate.min_label_share),
        (change, _pps_change, gate.max_pps_change),
        (features, lambda v: _top({k: d["Drift score"] for k, d in v.items()}), drift),
        (label, lambda v: v["Drift score"], drift),
    ]


def _min_share_condition(minimum: float) -> Callable[[dict[str, float]], Any]:
    from deepchecks.core import ConditionCategory, ConditionResult

    def condition(shares: dict[str, float]) -> Any:
        label, share = min(shares.items(), key=lambda item: item[1])
        category = ConditionCategory.PASS if share >= minimum else ConditionCategory.FAIL
        return ConditionResult(category, f"label {label!r} holds {share:.2%} of the rows")

    return condition


def _top(scores: dict[str, float]) -> dict[str, float] | None:
    """The highest score and whose it is, e.g. {"days_past_due": 1.0}."""
    if not scores:
        return None
    name, score = max(scores.items(), key=lambda item: item[1])
    return {str(name): round(float(score), 4)}


def _pps_change(value: dict[str, dict[str, float]]) -> dict[str, float] | None:
    train, test = value.get("train", {}), value.get("test", {})
    return _top({k: abs(train[k] - test.get(k, 0.0)) for k in train})


def run_suite(
    title: str,
    checks: Sequence[tuple[Any, Reader | None, Any]],
    *,
    train_dataset: Any,
    test_dataset: Any = None,
    predictions: dict[str, Any] | None = None,
    html: Path | None = None,
) -> list[GateResult]:
    """Run the checks as one deepchecks Suite; their conditions become gate results.

    A model's predictions are handed over precomputed (see ``predictions``): checks such as
    PerformanceBias would otherwise predict again for every subgroup."""
    import deepchecks
    from deepchecks.tabular import Suite

    deepchecks.set_verbosity(logging.WARNING)  # no progress bars in CI logs
    suite = Suite(title, *(check for check, _, _ in checks))
    outcome = suite.run(
        train_dataset=train_dataset,
        test_dataset=test_dataset,
        with_display=html is not None,
        **(predictions or {}),
    )
    if html is not None:
        save_html(outcome, html)
    readers = {id(check): (read, limit) for check, read, limit in checks}
    return [r for item in outcome.results for r in _to_results(item, readers)]


def predictions(classes: Sequence[Any], **proba: NDArray[Any]) -> dict[str, Any]:
    """deepchecks' static predictions from probabilities, e.g. predictions(c, train=p, test=q)."""
    labels = np.asarray(classes)
    static: dict[str, Any] = {"model_classes": list(labels)}
    for kind, values in proba.items():
        static[f"y_proba_{kind}"] = np.asarray(values)
        static[f"y_pred_{kind}"] = labels[np.asarray(values).argmax(axis=1)]
    return static


def _to_results(item: Any, readers: dict[int, tuple[Reader | None, Any]]) -> list[GateResult]:
    name = item.get_header()
    feature = getattr(item.check, "protected_feature", None)
    name = f"{name} ({feature})" if feature else name
    read, limit = readers.get(id(item.check), (None, None))
    if not hasattr(item, "conditions_results"):  # a CheckFailure: the check itself crashed
        message = f"the check could not run: {item.exception}"
        return [GateResult(name, "check ran", None, limit, False, {"message": message})]
    results = []
    for condition in item.conditions_results:
        category = condition.category.value
        try:
            value = read(item.value) if read else None
        except (KeyError, TypeError, ValueError):
            value = None
        details = {"message": condition.details, "category": category}
        passed = category in ("PASS", "WARN")
        results.append(GateResult(name, condition.name, value, limit, passed, details))
    return results


def save_html(outcome: Any, path: Path) -> None:
    """The suite's HTML report, written to a fresh temporary name and renamed into place
    (deepchecks never overwrites: it would invent a new file name instead)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.stem}."))
    try:
        written = folder / path.name
        outcome.save_as_html(str(written), as_widget=False)
        os.replace(written, path)
    finally:
        for leftover in folder.glob("*"):
            leftover.unlink()
        folder.rmdir()


def check(context: Context) -> GateReport:
    return run_integrity(context.frame, context.settings, context.reports)


GATE = Gate(NAME, "data", "deepchecks leakage, label balance and train-test drift", check)
