"""One move at a time per alias, and the repair of a move that a crash or an outage interrupted.

MLflow has no transaction and no compare-and-swap on tags, but creating a registered model is
atomic: a second create of the same name fails with RESOURCE_ALREADY_EXISTS. So the lease on
alias ``A`` of model ``M`` is a registered model named ``M.lease.A``, created with its owner's
id, host, process and expiry as tags and read back (compare-and-check: a create retried after a
lost answer finds its own lease). Before the alias moves, the lease records the intended move
(the history entry to write); it is deleted only once the alias and its entry are both written.

A lease is stale when it expired, or when its owner ran on this machine and its process is gone.
Any command that reads aliases or history (and every move) repairs stale leases: if the alias
already points where the intent says, the missing history entry is written; otherwise the move
is dropped. Either way the alias and its last history entry agree again, and it says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from lifecycle.errors import RegistryError
from lifecycle.registry import tracking

INFIX = ".lease."
POLL_S = 0.2
MARGIN_S = 10


@dataclass(frozen=True)
class Lease:
    model: str
    alias: str
    owner: str
    host: str
    pid: int
    expires: float
    intent: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return f"{self.model}{INFIX}{self.alias}"

    def tags(self) -> dict[str, str]:
        return {"owner": self.owner, "host": self.host, "pid": str(self.pid),
                "expires": repr(self.expires)}  # fmt: skip

    def stale(self) -> bool:
        if time.time() > self.expires:
            return True
        return self.host == host_id() and not _alive(self.pid)


def ttl_s() -> float:
    """How long a lease lasts: a move that one slow request may hold up, with room to spare."""
    return 2 * tracking.timeout_s() + MARGIN_S


def acquire(client: MlflowClient, model: str, alias: str) -> Lease:
    """Take the lease on ``alias``, waiting (at most its lifetime) for another move to end."""
    mine = Lease(model, alias, uuid.uuid4().hex, host_id(), os.getpid(), time.time() + ttl_s())
    deadline, told = time.monotonic() + ttl_s(), False
    held = _create(client, mine)
    while True:
        if held is not None and held.owner == mine.owner:
            return held
        if held is not None and held.stale():
            repair(client, held)
        elif time.monotonic() > deadline:
            raise _busy(held, mine)
        elif held is not None:
            if not told:
                tracking.progress(f"waiting for another move of alias '{alias}' to end…")
                told = True
            time.sleep(POLL_S * (1 + random.random()))  # noqa: S311 (spreading polls)
        held = read(client, model, alias)  # polls only read; a write contends with the holder
        if held is None:
            held = _create(client, mine)


def _create(client: MlflowClient, mine: Lease) -> Lease | None:
    """Create the lease (atomic: one creator wins), then read who holds it."""
    try:
        client.create_registered_model(mine.name, tags=mine.tags())
    except MlflowException as exc:
        if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
            raise
    return read(client, mine.model, mine.alias)


def _busy(held: Lease | None, mine: Lease) -> RegistryError:
    who = f" (process {held.pid} on {held.host})" if held is not None else ""
    return RegistryError(
        f"another move of alias '{mine.alias}' of '{mine.model}' holds the lease "
        f"{mine.name}{who} and did not end within {ttl_s():g} s: nothing was changed. Run "
        "the step again when that move has ended"
    )


def read(client: MlflowClient, model: str, alias: str) -> Lease | None:
    try:
        found = client.get_registered_model(f"{model}{INFIX}{alias}")
    except MlflowException as exc:
        if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    return _from_tags(model, alias, found.tags)


def _from_tags(model: str, alias: str, tags: dict[str, str]) -> Lease:
    try:
        intent = json.loads(tags["intent"]) if tags.get("intent") else None
        pid, expires = int(tags.get("pid", "0")), float(tags.get("expires", "0"))
    except ValueError:
        intent, pid, expires = None, 0, 0.0  # unreadable: treated as long expired
    return Lease(model, alias, tags.get("owner", ""), tags.get("host", ""), pid, expires, intent)


def record_intent(client: MlflowClient, lease: Lease, intent: dict[str, Any]) -> Lease:
    """Write down the move before making it; refused when too little lease time is left."""
    if time.time() > lease.expires - tracking.timeout_s():
        raise RegistryError(
            f"the lease on alias '{lease.alias}' ran out before the move began (the registry "
            "answered slowly): nothing was changed. Run the step again"
        )
    client.set_registered_model_tag(lease.name, "intent", json.dumps(intent))
    return replace(lease, intent=intent)


def check_held(client: MlflowClient, lease: Lease) -> None:
    held = read(client, lease.model, lease.alias)
    if held is None or held.owner != lease.owner:
        raise RegistryError(
            f"the lease on alias '{lease.alias}' of '{lease.model}' was taken over while this "
            "move ran (it outlived its lease): run `lifecycle history` to see what was recorded"
        )


def release(client: MlflowClient, lease: Lease) -> None:
    """Delete the lease if it is still this one (compare, then delete)."""
    held = read(client, lease.model, lease.alias)
    if held is not None and held.owner == lease.owner:
        with contextlib.suppress(MlflowException):  # deleted meanwhile by a repair
            client.delete_registered_model(lease.name)


def repair(client: MlflowClient, lease: Lease) -> str:
    """Finish or drop an interrupted move so that alias and history agree; then free the lease."""
    intent = lease.intent
    message = f"removed a stale lease on alias '{lease.alias}' (no move had begun)"
    if intent:
        model = client.get_registered_model(lease.model)
        now = {a: str(v) for a, v in model.aliases.items()}.get(lease.alias)
        what = f"{intent['entry']['action']} of alias '{lease.alias}' to version {intent['to']}"
        if now == intent["to"]:
            if intent["key"] not in model.tags:
                client.set_registered_model_tag(
                    lease.model, intent["key"], json.dumps(intent["entry"])
                )
            message = f"completed the interrupted {what}: the alias had moved; history recorded"
        else:
            message = f"dropped the interrupted {what}: the alias had not moved"
    release(client, lease)
    tracking.progress(f"repaired: {message}")
    return message


def reconcile(client: MlflowClient, model: str) -> list[str]:
    """Repair every stale lease of ``model``; what was done, one line each."""
    prefix = f"{model}{INFIX}"
    pattern = prefix.replace("'", "''")
    found = client.search_registered_models(filter_string=f"name LIKE '{pattern}%'")
    done = []
    for each in found:
        if not each.name.startswith(prefix):
            continue
        lease = _from_tags(model, each.name[len(prefix) :], each.tags)
        if lease.stale():
            done.append(repair(client, lease))
    return done


def host_id() -> str:
    """This machine: host name and boot id (containers on one host share the boot id)."""
    boot = ""
    with contextlib.suppress(OSError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    return f"{socket.gethostname()}/{boot}"


def _alive(pid: int) -> bool:
    """The lease holder still runs (the registry does not import serving's ``process_alive``)."""
    import psutil  # type: ignore[import-untyped]  # installed with BentoML; ships no type information

    try:
        return pid > 0 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:  # gone
        return False
