"""Environments' aliases and their history: promote, rollback, and the audit trail.

Each environment (dev, staging, prod) has its own MLflow alias. Every alias move is recorded in
the registry itself, as registered-model tags ``history.<utc nanoseconds>`` holding JSON, so the
audit trail lives wherever the registry lives and rollback can find the previous version. Each
entry says who moved the alias (the user who triggered the workflow run), the run's URL and,
when the run's deployment to that environment needed a reviewer, who approved it. A rollback
goes only to a version the alias has pointed at before.

A move holds the alias's lease (``lifecycle.registry.lease``) from before it reads the alias to
after it verified what it wrote: intent recorded, alias moved, history entry written, both read
back. A move cut short is finished or dropped by the next command that reads the registry.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from lifecycle.errors import RegistryError, UsageError
from lifecycle.registry import gate_tags, lease, models, tracking
from lifecycle.settings import Settings

HISTORY_PREFIX = "history."
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


# what a move decides once it holds the lease: (action, version) to move, or a Move: nothing to do
Plan = Callable[[Any, str | None, list[dict[str, Any]]], "tuple[str, ModelVersion] | Move"]


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

    def plan(
        model: Any, current: str | None, _: list[dict[str, Any]]
    ) -> tuple[str, ModelVersion] | Move:
        target = models.version_in(model, version)
        if current == str(target.version):
            said = f"{environment} (alias '{alias}') is already at version {current}"
            return Move(environment, alias, current, current, False, f"{said}: nothing changed")
        return "promote", target

    return _move(settings, environment, alias, plan, actor, reason)


def rollback(
    settings: Settings,
    environment: str = "prod",
    target: str | None = None,
    actor: str = "",
    reason: str = "",
    expect: str | None = None,
) -> Move:
    """Move the alias back to the version before the current one (from history), or to target,
    a version the alias has pointed at before (UsageError naming those otherwise).

    Idempotent: when the alias already sits where this call would put it (the last recorded
    move of this alias is a rollback to the current version, or ``target`` is current), nothing
    changes and the returned Move says so. With ``expect`` (the version the caller redeployed
    from), a move is refused, changing nothing, when the alias no longer points there.
    """
    alias = alias_for(settings, environment)

    def plan(
        model: Any, current: str | None, entries: list[dict[str, Any]]
    ) -> tuple[str, ModelVersion] | Move:
        if expect is not None and current not in (expect, _number(target)):
            raise RegistryError(
                f"{environment} (alias '{alias}') moved from version {expect} to {current} "
                "while rolling back: nothing was changed in the registry; run the rollback again"
            )
        return _rollback_plan(environment, alias, model, current, entries, target)

    return _move(settings, environment, alias, plan, actor, reason)


def rollback_target(
    settings: Settings, environment: str, target: str | None = None
) -> tuple[str, str] | Move:
    """What a rollback would do, read without moving anything: (current version, version to
    roll back to), or a Move saying there is nothing to do. Raises as ``rollback`` would."""
    alias = alias_for(settings, environment)
    model = models.registered_model(settings)
    if lease.reconcile(MlflowClient(), settings.model.name):
        model = models.registered_model(settings)
    current = _alias_map(model).get(alias)
    decided = _rollback_plan(environment, alias, model, current, recorded(model), target)
    if isinstance(decided, Move):
        return decided
    return str(current), str(decided[1].version)


def served(entries: list[dict[str, Any]], alias: str) -> list[str]:
    """The versions the alias has pointed at, by its recorded history, in number order."""
    seen = {str(e[key]) for e in entries if e.get("alias") == alias for key in ("from", "to")}
    return sorted((v for v in seen if v.isdigit()), key=int)


def _number(ref: str | None) -> str | None:
    """ "3" or "v3" -> "3"; anything else (an alias, empty) -> None."""
    text = str(ref or "").strip()
    text = text[1:] if text[:1] in ("v", "V") else text
    return text if text.isdigit() else None


def _rollback_plan(
    environment: str,
    alias: str,
    model: Any,
    current: str | None,
    entries: list[dict[str, Any]],
    target: str | None,
) -> tuple[str, ModelVersion] | Move:
    if current is None:
        raise RegistryError(
            f"{environment} (alias '{alias}') points at no version: nothing to roll back"
        )
    if target is not None:
        number = _number(target)
        if number == current:
            said = f"{environment} is already at version {current}: nothing changed"
            return Move(environment, alias, current, current, False, said)
        choices = [v for v in served(entries, alias) if v != current]
        if number not in choices:
            plural = "s" if len(choices) > 1 else ""
            may = (
                f"it may roll back to version{plural} {', '.join(choices)}"
                if choices
                else "it has served no other version"
            )
            raise UsageError(
                f"{environment} has never served {target!r} (its history: `lifecycle history "
                f"--env {environment}`): {may}"
            )
        return "rollback", models.version_in(model, number)
    last = next((e for e in reversed(entries) if e["alias"] == alias), None)
    if last is None or str(last["to"]) != current:
        raise RegistryError(
            f"the history does not record how {environment} (alias '{alias}') reached version "
            f"{current}: pass --to VERSION to say where to roll back to"
        )
    if last["action"] == "rollback":
        said = (
            f"{environment} was already rolled back to version {current} at {last['at']} by "
            f"{last['actor']}: nothing changed"
        )
        return Move(environment, alias, current, current, False, said)
    if last["from"] is None:
        raise RegistryError(
            f"version {current} is the first version {environment} ever had: there is no "
            "earlier one to roll back to; pass --to VERSION"
        )
    return "rollback", models.version_in(model, last["from"])


def _move(
    settings: Settings, environment: str, alias: str, plan: Plan, actor: str, reason: str
) -> Move:
    """Under the alias's lease: decide, record the intent, move, record, verify, release."""
    name = settings.model.name
    models.registered_model(settings)  # no model: say so before taking any lease
    audit = _audit(environment, actor)  # GitHub is asked before the lease is held, not during
    client = MlflowClient()
    lease.reconcile(client, name)
    held = lease.acquire(client, name, alias)
    try:
        model = client.get_registered_model(name)
        current = _alias_map(model).get(alias)
        decided = plan(model, current, recorded(model))
        if isinstance(decided, Move):
            lease.release(client, held)
            return decided
        action, version = decided
        to = str(version.version)
        key = _history_key(model)
        entry = _entry(action, environment, alias, current, to, audit, reason, version.tags)
        held = lease.record_intent(client, held, {"key": key, "to": to, "entry": entry})
        client.set_registered_model_alias(name, alias, to)
        client.set_registered_model_tag(name, key, json.dumps(entry))
        _verify(client, held, to, key)
    except BaseException:
        _abandon(client, held)
        raise
    client.delete_registered_model(held.name)
    was = f"was version {current}" if current else "first version there"
    message = f"{action}: {environment} (alias '{alias}') -> version {to} ({was})"
    return Move(environment, alias, to, current, True, message)


def _verify(client: MlflowClient, held: lease.Lease, to: str, key: str) -> None:
    """Read back what was written: the alias, its history entry, and the lease still ours."""
    model = client.get_registered_model(held.model)
    if _alias_map(model).get(held.alias) != to or key not in model.tags:
        raise RegistryError(
            f"alias '{held.alias}' or its history entry did not read back as written: run "
            "`lifecycle history` (it repairs an interrupted move) and check the result"
        )
    lease.check_held(client, held)


def _abandon(client: MlflowClient, held: lease.Lease) -> None:
    """After a failure: drop the lease, or repair the move it records; if the registry is gone,
    the next command that reads it does that."""
    with contextlib.suppress(Exception):
        if held.intent is None:
            lease.release(client, held)
        else:
            lease.repair(client, held)


def _history_key(model: Any) -> str:
    """A fresh ``history.<ns>`` key, after every existing one (clocks of runners may differ)."""
    stamps = [int(k[len(HISTORY_PREFIX) :]) for k in model.tags if _is_history(k)]
    return f"{HISTORY_PREFIX}{max([time.time_ns(), *(s + 1 for s in stamps)])}"


def _audit(environment: str, actor: str) -> dict[str, str]:
    """Who moves the alias, from which workflow run, and who approved that run's deployment to
    the environment (GitHub's review history; empty outside a run or when it cannot be read,
    and then a warning says why)."""
    from lifecycle.github import actions, approvals

    approver, problem = approvals.approver(environment)
    if problem:
        said = f"the approver of {environment} is not recorded: {problem}"
        tracking.progress(said)
        actions.warning(said, title="Audit trail")
    return {
        "actor": actor or default_actor(),
        "ci_run_url": tracking.ci_run_url() or "",
        "approver": approver,
    }


def _entry(
    action: str,
    environment: str,
    alias: str,
    current: str | None,
    to: str,
    audit: dict[str, str],
    reason: str,
    tags: dict[str, str],
) -> dict[str, Any]:
    gates = {gate: str(r.passed).lower() for gate, r in gate_tags.read(tags).items()}
    return {
        "at": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "action": action,
        "environment": environment,
        "alias": alias,
        "from": current,
        "to": to,
        **audit,
        "reason": reason[:MAX_REASON],
        "run_id": tags.get("run_id"),
        "data_version": tags.get("data.version"),
        "git_commit": tags.get("git.commit"),
        "gates_passed": gates,
    }


def history(settings: Settings, environment: str | None = None) -> list[dict[str, Any]]:
    """Recorded alias moves, oldest first; optionally of one environment only."""
    tracking.configure()
    client = MlflowClient()
    try:
        model = client.get_registered_model(settings.model.name)
    except MlflowException as exc:
        failure = tracking.registry_failure(exc)
        if failure is not None:
            raise failure from None
        return []  # no model registered yet: nothing moved
    if lease.reconcile(client, settings.model.name):
        model = client.get_registered_model(settings.model.name)
    entries = recorded(model)
    if environment is not None:
        entries = [e for e in entries if e.get("environment") == environment]
    return entries


def recorded(model: Any) -> list[dict[str, Any]]:
    stamped = sorted(
        (int(key[len(HISTORY_PREFIX) :]), value) for key, value in model.tags.items()
        if _is_history(key)
    )  # fmt: skip
    return [json.loads(value) for _, value in stamped]


def _is_history(key: str) -> bool:
    return key.startswith(HISTORY_PREFIX) and key[len(HISTORY_PREFIX) :].isdigit()


def current(settings: Settings) -> dict[str, str]:
    """alias -> version number of the registered model (after repairing interrupted moves)."""
    model = models.registered_model(settings)
    if lease.reconcile(MlflowClient(), settings.model.name):
        model = models.registered_model(settings)
    return _alias_map(model)


def _alias_map(model: Any) -> dict[str, str]:
    return {alias: str(v) for alias, v in model.aliases.items()}


def default_actor() -> str:
    """Who is acting: in Actions the user who triggered the run (or re-ran it), else the local
    user name."""
    actor = os.environ.get("GITHUB_TRIGGERING_ACTOR") or os.environ.get("GITHUB_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
