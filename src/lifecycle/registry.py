"""The model registry: MLflow registered model versions and aliases (never stages).

``candidate`` marks the newest registered version; each environment (dev, staging, prod) has its
own alias. Every alias move is recorded in the registry itself, as registered-model tags
``history.<utc nanoseconds>`` holding JSON, so the audit trail lives wherever the registry lives
(a shared ``mlflow server`` outlives CI runners) and rollback can find the previous version.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from lifecycle import tracking
from lifecycle.errors import GateFailed, RegistryError, UsageError
from lifecycle.settings import Settings

CANDIDATE = "candidate"
HISTORY_PREFIX = "history."
# run tags copied onto each model version, so a version says where it came from
COPIED_TAG_PREFIXES = ("git.", "data.", "params.", "uv_lock.", "lifecycle.version", "gate.")
COPIED_METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "brier")
MAX_REASON = 1000


@dataclass(frozen=True)
class Move:
    """The outcome of a promote or rollback: where the alias points now and whether it moved."""

    environment: str
    alias: str
    version: str
    previous: str | None
    changed: bool
    message: str

    def outputs(self, model_name: str) -> dict[str, str]:
        """The step outputs a workflow reads after a promote or rollback."""
        return {
            "version": self.version,
            "previous-version": self.previous or "",
            "alias": self.alias,
            "changed": str(self.changed).lower(),
            "model-uri": f"models:/{model_name}/{self.version}",
        }


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
    tags = run.data.tags
    failed = sorted(
        key[len("gate.") : -len(".passed")]
        for key, value in tags.items()
        if key.startswith("gate.") and key.endswith(".passed") and value == "false"
    )
    enforced = [gate for gate in failed if tags.get(f"gate.{gate}.mode") == "enforce"]
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


def alias_for(settings: Settings, environment: str) -> str:
    if environment not in settings.environments:
        known = ", ".join(settings.environments)
        raise UsageError(
            f"unknown environment '{environment}': {settings.source} lists {known} "
            "(environments section)"
        )
    return settings.environments[environment].alias_for(environment)


def promote(
    settings: Settings, environment: str, version: str, actor: str, reason: str = ""
) -> Move:
    """Point the environment's alias at ``version`` (a number or an alias) and record it."""
    alias = alias_for(settings, environment)
    target = str(resolve(settings, version).version)
    current = aliases(settings).get(alias)
    if current == target:
        message = f"{environment} (alias '{alias}') is already at version {target}: nothing changed"
        return Move(environment, alias, target, current, False, message)
    return _move(settings, "promote", environment, alias, current, target, actor, reason)


def rollback(
    settings: Settings,
    environment: str = "prod",
    target: str | None = None,
    actor: str = "",
    reason: str = "",
) -> Move:
    """Move the alias back to the version before the current one (from history), or to target.

    Idempotent: when the alias already sits where this call would put it (the last recorded
    move of this alias is a rollback to the current version, or ``target`` is current), nothing
    changes and the returned Move says so.
    """
    alias = alias_for(settings, environment)
    current = aliases(settings).get(alias)
    if current is None:
        raise RegistryError(
            f"{environment} (alias '{alias}') points at no version: nothing to roll back"
        )
    if target is not None:
        to = str(resolve(settings, target).version)
        if to == current:
            message = f"{environment} is already at version {to}: nothing changed"
            return Move(environment, alias, to, current, False, message)
    else:
        last = next((e for e in reversed(history(settings)) if e["alias"] == alias), None)
        if last is None or str(last["to"]) != current:
            raise RegistryError(
                f"the history does not record how {environment} (alias '{alias}') reached version "
                f"{current}: pass --to VERSION to say where to roll back to"
            )
        if last["action"] == "rollback":
            message = (
                f"{environment} was already rolled back to version {current} at {last['at']} by "
                f"{last['actor']}: nothing changed"
            )
            return Move(environment, alias, current, current, False, message)
        if last["from"] is None:
            raise RegistryError(
                f"version {current} is the first version {environment} ever had: there is no "
                "earlier one to roll back to; pass --to VERSION"
            )
        to = str(resolve(settings, last["from"]).version)
    return _move(settings, "rollback", environment, alias, current, to, actor, reason)


def _move(
    settings: Settings,
    action: str,
    environment: str,
    alias: str,
    current: str | None,
    to: str,
    actor: str,
    reason: str,
) -> Move:
    """Move the alias, then record it; if recording fails, put the alias back."""
    client, name = MlflowClient(), settings.model.name
    client.set_registered_model_alias(name, alias, to)
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "action": action,
        "environment": environment,
        "alias": alias,
        "from": current,
        "to": to,
        "actor": actor or default_actor(),
        "reason": reason[:MAX_REASON],
        **_version_facts(client, name, to),
    }
    try:
        _append_history(client, name, entry)
    except Exception:
        if current is None:
            client.delete_registered_model_alias(name, alias)
        else:
            client.set_registered_model_alias(name, alias, current)
        raise
    was = f"was version {current}" if current else "first version there"
    message = f"{action}: {environment} (alias '{alias}') -> version {to} ({was})"
    return Move(environment, alias, to, current, True, message)


def _version_facts(client: MlflowClient, name: str, version: str) -> dict[str, Any]:
    tags = client.get_model_version(name, version).tags
    gates = {
        key[len("gate.") : -len(".passed")]: value
        for key, value in tags.items()
        if key.startswith("gate.") and key.endswith(".passed")
    }
    facts = {
        "run_id": tags.get("run_id"),
        "data_version": tags.get("data.version"),
        "git_commit": tags.get("git.commit"),
        "gates_passed": gates,
    }
    ci = tracking.ci_run_url()
    if ci:
        facts["ci_run_url"] = ci
    return facts


def _append_history(client: MlflowClient, name: str, entry: dict[str, Any]) -> None:
    taken = set(client.get_registered_model(name).tags)
    stamp = time.time_ns()
    while f"{HISTORY_PREFIX}{stamp}" in taken:
        stamp += 1
    client.set_registered_model_tag(name, f"{HISTORY_PREFIX}{stamp}", json.dumps(entry))


def history(settings: Settings, environment: str | None = None) -> list[dict[str, Any]]:
    """Recorded alias moves, oldest first; optionally of one environment only."""
    tracking.configure()
    try:
        model = MlflowClient().get_registered_model(settings.model.name)
    except MlflowException:
        return []
    stamped = sorted(
        (int(key[len(HISTORY_PREFIX) :]), value)
        for key, value in model.tags.items()
        if key.startswith(HISTORY_PREFIX) and key[len(HISTORY_PREFIX) :].isdigit()
    )
    entries = [json.loads(value) for _, value in stamped]
    if environment is not None:
        entries = [e for e in entries if e.get("environment") == environment]
    return entries


def aliases(settings: Settings) -> dict[str, str]:
    """alias -> version number of the registered model."""
    return {alias: str(v) for alias, v in _registered_model(settings).aliases.items()}


def _registered_model(settings: Settings) -> Any:
    tracking.configure()
    try:
        return MlflowClient().get_registered_model(settings.model.name)
    except MlflowException:
        raise RegistryError(
            f"no registered model '{settings.model.name}' at {tracking.describe_uri()}: run "
            "`lifecycle train` and `lifecycle register` first"
        ) from None


def resolve(settings: Settings, ref: str | int) -> ModelVersion:
    """A version number ("3", "v3", 3) or an alias ("prod", "candidate") -> the model version."""
    model = _registered_model(settings)
    text = str(ref).strip()
    number = text[1:] if text[:1] in ("v", "V") and text[1:].isdigit() else text
    if not number.isdigit():
        number = {a: str(v) for a, v in model.aliases.items()}.get(text, "")
        if not number:
            known = ", ".join(sorted(model.aliases)) or "none yet"
            raise RegistryError(f"model '{model.name}' has no alias '{text}' (aliases: {known})")
    try:
        return MlflowClient().get_model_version(model.name, number)
    except MlflowException:
        raise RegistryError(f"model '{model.name}' has no version {number}") from None


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


def default_actor() -> str:
    """Who is acting: the GitHub actor in Actions, else the local user name."""
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
