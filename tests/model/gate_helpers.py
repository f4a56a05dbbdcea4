"""Helpers shared by the gate tests: quick settings, a settings tweak, a model fit."""

from fixtures import PARAMS
from lifecycle.data.dataset import features_and_target
from lifecycle.settings import load_settings
from lifecycle.training.model import build_pipeline, model_input

# hyperparameters (not thresholds) for a model that generalises from a few thousand rows
QUICK = {"learning_rate": 0.05, "max_iter": 60, "max_leaf_nodes": 8, "min_samples_leaf": 50}


def quick_settings():
    """The tests' own params.yaml (tests/fixtures) with the QUICK hyperparameters."""
    settings = load_settings(PARAMS)
    model = settings.model.model_copy(update={"params": QUICK})
    return settings.model_copy(update={"model": model})


def with_gate(settings, gate, **changes):
    """The settings with gates.<gate> changed, e.g. with_gate(s, "model", max_size_mb=0.01)."""
    section = getattr(settings.gates, gate).model_copy(update=changes)
    return settings.model_copy(update={"gates": settings.gates.model_copy(update={gate: section})})


def fit(settings, frame, shuffle_labels=False):
    """The configured pipeline fitted on ``frame``; shuffled labels give a model that learnt
    nothing."""
    X, y = features_and_target(frame, settings)
    if shuffle_labels:
        y = y.sample(frac=1.0, random_state=0).reset_index(drop=True)
    return build_pipeline(settings).fit(model_input(X, settings), y)
