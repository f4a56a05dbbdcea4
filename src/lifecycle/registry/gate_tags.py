"""The ``gate.*`` tags: each gate's outcome as MLflow records it, written and read only here.

``gate.<name>.passed`` (true | false) and ``gate.<name>.mode`` (enforce | warn | off). `lifecycle
gate` sets them on the training run, `register` copies them onto the model version (and refuses a
run with a failed enforced gate), `loadtest` sets its own on the version it tested; the history
and the model card read them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol

PREFIX = "gate."
PASSED = ".passed"
MODE = ".mode"


class Outcome(Protocol):
    """What a gate report says of itself (``lifecycle.gates.result.GateReport``)."""

    @property
    def gate(self) -> str: ...

    @property
    def passed(self) -> bool: ...

    @property
    def mode(self) -> str: ...


class Recorded(NamedTuple):
    passed: bool
    mode: str  # enforce | warn | off; "?" when the mode tag is missing


def write(report: Outcome) -> dict[str, str]:
    """The tags recording one gate's outcome."""
    return {
        f"{PREFIX}{report.gate}{PASSED}": str(report.passed).lower(),
        f"{PREFIX}{report.gate}{MODE}": report.mode,
    }


def read(tags: Mapping[str, str]) -> dict[str, Recorded]:
    """gate name -> (passed, mode), for every gate the tags record."""
    recorded = {}
    for key, value in tags.items():
        if key.startswith(PREFIX) and key.endswith(PASSED):
            name = key[len(PREFIX) : -len(PASSED)]
            recorded[name] = Recorded(value == "true", tags.get(f"{PREFIX}{name}{MODE}", "?"))
    return recorded


def failed_enforced(tags: Mapping[str, str]) -> list[str]:
    """The gates recorded as failed in mode enforce, sorted by name."""
    return sorted(name for name, r in read(tags).items() if not r.passed and r.mode == "enforce")
