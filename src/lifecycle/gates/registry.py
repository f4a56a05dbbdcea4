"""The gate registry: every gate by its one name, its settings section, its stage and its checks.

A gate's name is its key under ``gates:`` in params.yaml (a field of ``settings.Gates``), its
module ``lifecycle.gates.<name>``, its report file ``reports/<name>.json``, its tags
``gate.<name>.*`` and its ``--only`` choice. The settings' ``Gates`` fields are the list of
gates, in lifecycle order; each module declares one ``GATE = Gate(...)``. Adding a gate is its
module, its settings field and its params.yaml section (docs/gates.md).

Each gate belongs to the stage whose verb runs it: data (``validate``), model (``gate``), serving
(``loadtest``) and monitoring (``drift``). Serving and monitoring gates need a served Bento or a
window of traffic: their verb measures and judges with its domain module and hands the report
over in the context (``Context.measured``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lifecycle.errors import ConfigError, UsageError
from lifecycle.gates.result import GateReport

if TYPE_CHECKING:
    import pandas as pd

    from lifecycle.settings import GateSection, Settings

Stage = Literal["data", "model", "serving", "monitoring"]
# the verb that runs each stage's gates
STAGES: dict[str, str] = {
    "data": "validate",
    "model": "gate",
    "serving": "loadtest",
    "monitoring": "drift",
}


@dataclass(frozen=True)
class Context:
    """What a gate's checks may read; each stage fills the part it has."""

    settings: Settings
    reports: Path
    frame: pd.DataFrame | None = None  # data: the batch to validate
    model: Any = None  # model: the training run's model
    train: pd.DataFrame | None = None  # model: the training split (recomputed with data.split)
    test: pd.DataFrame | None = None  # model: the holdout
    measured: GateReport | None = None  # serving, monitoring: the report their verb judged


@dataclass(frozen=True)
class Gate:
    """One gate: ``check(context)`` returns its report; ``about`` is one line for the docs."""

    name: str
    stage: Stage
    about: str
    check: Callable[[Context], GateReport]

    def settings(self, settings: Settings) -> GateSection:
        """Its section of params.yaml: ``gates.<name>``."""
        section: GateSection = getattr(settings.gates, self.name)
        return section

    def mode(self, settings: Settings) -> str:
        return str(self.settings(settings).mode)


def names() -> tuple[str, ...]:
    """Every gate's name, in lifecycle order: the fields of the settings' ``gates`` section."""
    from lifecycle import settings

    section = settings.Settings.model_fields["gates"].annotation  # Gates, or a subclass of it
    return tuple(getattr(section, "model_fields", {}))


def ordered(found: Iterable[str]) -> list[str]:
    """Gate names in lifecycle order; names the registry does not know come last, sorted."""
    rank = {name: i for i, name in enumerate(names())}
    return sorted(set(found), key=lambda name: (rank.get(name, len(rank)), name))


def get(name: str) -> Gate:
    """The gate called ``name``; a UsageError listing the known names when there is none."""
    known = names()
    if name not in known:
        raise UsageError(f"unknown gate '{name}'; the gates are {', '.join(known)}")
    module_name = f"{__package__}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        module = None
    gate = getattr(module, "GATE", None)
    if not isinstance(gate, Gate) or gate.name != name:
        raise ConfigError(
            f"gates.{name} is in the settings but {module_name} declares no GATE = Gate('{name}', "
            "...): add the gate's module (see docs/gates.md)"
        )
    return gate


def of_stage(stage: Stage) -> list[Gate]:
    """The stage's gates, in lifecycle order."""
    return [gate for gate in map(get, names()) if gate.stage == stage]


def select(only: str | None, stage: Stage) -> list[Gate]:
    """The gates named in a comma-separated ``only`` (default: all of the stage), in order."""
    choices = of_stage(stage)
    if only is None:
        return choices
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    chosen = [gate for gate in choices if gate.name in wanted]
    if len(chosen) < len(set(wanted)) or not wanted:
        problems = [
            f"{name} runs in `lifecycle {STAGES[get(name).stage]}`"
            if name in names()
            else f"unknown gate '{name}'"
            for name in wanted
            if name not in {gate.name for gate in chosen}
        ]
        raise UsageError(
            f"--only: {'; '.join(problems) or 'no gate named'}; choose from "
            f"{', '.join(gate.name for gate in choices)}"
        )
    return chosen


def run(gate: Gate, context: Context) -> GateReport:
    """The gate's report: not run when its mode is off; checked to carry its name and mode."""
    mode = gate.mode(context.settings)
    if mode == "off":
        return GateReport(gate.name, mode)
    if context.measured is None:
        from lifecycle.registry import tracking

        tracking.progress(f"gate {gate.name}…")
    report = gate.check(context)
    if report.gate != gate.name or report.mode != mode:
        raise ValueError(
            f"gate '{gate.name}' returned a report for '{report.gate}' in mode {report.mode}"
        )
    return report


def measured(context: Context) -> GateReport:
    """The check of a serving or monitoring gate: the report its verb judged."""
    if context.measured is None:
        raise ValueError("a serving or monitoring gate judges what its verb measured: none given")
    return context.measured
