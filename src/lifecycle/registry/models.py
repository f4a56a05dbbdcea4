"""The model registry's versions: register a training run, resolve a number or an alias, load.

``candidate`` marks the newest registered version. The environments' aliases, their history and
the moves between them (promote, rollback) are ``lifecycle.registry.aliases``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from lifecycle.errors import GateFailed, RegistryError
from lifecycle.registry import tracking
from lifecycle.settings import Settings

CANDIDATE = "candidate"
# run tags copied onto each model version, so a version says where it came from
COPIED_TAG_PREFIXES = (
    "git.", "code.", "data.", "params.", "uv_lock.", "lifecycle.version", "gate.",
)  # fmt: skip
COPIED_METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "brier")


def register(settings: Settings, run_id: str) -> str:
    """Register the run's model as a new version and point ``candidate`` at it."""
    run = tracking.training_run(run_id)
    _refuse_failed_gates(run)
    client, name = MlflowClient(), settings.model.name
    existing = client.search_model_versions(f"name='{name}' and run_id='{run_id}'")
    if existing:
        version = str(max(int(v.version) for v in existing))
        tracking.progress(f"run {run_id} is already version {version} of '{name}'")
    else:
        source = run.data.tags.get("model.uri") or f"runs:/{run_id}/model"
        version = str(mlflow.register_model(source, name, tags=version_tags(run)).version)
    try:
        client.set_registered_model_alias(name, CANDIDATE, version)
    except MlflowException:
        if not existing:  # leave no version behind that no alias knows about
            client.delete_model_version(name, version)
        raise
    return version


def _refuse_failed_gates(run: Any) -> None:
    from lifecycle.registry import gate_tags

    enforced = gate_tags.failed_enforced(run.data.tags)
    if enforced:
        raise GateFailed(
            f"run {run.info.run_id} failed the enforced gate(s) {', '.join(enforced)}: nothing "
            "was registered. Read reports/<gate>.md (or the run's gate.* tags), fix the data or "
            "the model, and train again."
        )


def version_tags(run: Any) -> dict[str, str]:
    """What a version records about its run: run id, code, data, settings, gates, metrics."""
    tags = {"run_id": run.info.run_id}
    tags.update({k: v for k, v in run.data.tags.items() if k.startswith(COPIED_TAG_PREFIXES)})
    if "estimator" in run.data.params:
        tags["estimator"] = run.data.params["estimator"]
    for metric in COPIED_METRICS:
        if metric in run.data.metrics:
            tags[f"metric.{metric}"] = repr(run.data.metrics[metric])
    return tags


def find_registered_model(settings: Settings) -> Any | None:
    """The registered model, or None when there is none yet (a failing registry raises)."""
    tracking.configure()
    try:
        return MlflowClient().get_registered_model(settings.model.name)
    except MlflowException as exc:
        fault = tracking.registry_failure(exc)
        if fault is not None:
            raise fault from None
        return None


def registered_model(settings: Settings) -> Any:
    """The registered model (its aliases and tags); RegistryError if there is none."""
    tracking.configure()
    try:
        return MlflowClient().get_registered_model(settings.model.name)
    except MlflowException as exc:
        missing = RegistryError(
            f"no registered model '{settings.model.name}' at {tracking.describe_uri()}: run "
            "`lifecycle train` and `lifecycle register` first"
        )
        raise tracking.unless_fault(exc, missing) from None


def resolve(settings: Settings, ref: str | int) -> ModelVersion:
    """A version number ("3", "v3", 3) or an alias ("prod", "candidate") -> the model version."""
    return version_in(registered_model(settings), ref)


def version_in(model: Any, ref: str | int) -> ModelVersion:
    """``ref`` resolved against a registered model already read (its aliases)."""
    text = str(ref).strip()
    number = text[1:] if text[:1] in ("v", "V") and text[1:].isdigit() else text
    if not number.isdigit():
        number = {a: str(v) for a, v in model.aliases.items()}.get(text, "")
        if not number:
            known = ", ".join(sorted(model.aliases)) or "none yet"
            raise RegistryError(f"model '{model.name}' has no alias '{text}' (aliases: {known})")
    try:
        return MlflowClient().get_model_version(model.name, number)
    except MlflowException as exc:
        missing = RegistryError(f"model '{model.name}' has no version {number}")
        raise tracking.unless_fault(exc, missing) from None


def model_uri(settings: Settings, ref: str | int) -> str:
    """``models:/<name>/<version>`` for a version number or alias, pinned to the version."""
    return f"models:/{settings.model.name}/{resolve(settings, ref).version}"


def load_model(settings: Settings, ref: str | int) -> Any:
    """The fitted scikit-learn pipeline of a registered version (by number or alias)."""
    return load_uri(model_uri(settings, ref))


def load_run_model(run_id: str) -> Any:
    """The fitted pipeline a training run logged (registered or not)."""
    run = tracking.training_run(run_id)
    return load_uri(run.data.tags.get("model.uri") or f"runs:/{run_id}/model")


def load_uri(uri: str) -> Any:
    import mlflow.sklearn

    tracking.configure()
    with trusted_models():
        return mlflow.sklearn.load_model(uri)


@contextlib.contextmanager
def trusted_models() -> Iterator[None]:
    """MLflow refuses to deserialize models unless told the source is trusted. Ours is: the
    models in this registry were written by `lifecycle train`. Allowed only inside the block."""
    key = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
    before = os.environ.get(key)
    os.environ[key] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before
