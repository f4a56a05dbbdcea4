"""The whole local lifecycle in one process: each step is the same CLI verb a person or CI runs.

Steps run in order and stop at the first failure (its exit code is the pipeline's). Imports
are paid once, so the timings show what each step really costs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# (verb, extra arguments): the lifecycle in order. Verbs not (yet) in the CLI are skipped.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pull", ()),
    ("validate", ()),
    ("train", ()),
    ("gate", ()),
    ("register", ()),
    ("build", ()),
    ("loadtest", ()),
)


@dataclass
class StepTiming:
    verb: str
    seconds: float
    exit_code: int


@dataclass
class PipelineResult:
    steps: list[StepTiming] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return next((s.exit_code for s in self.steps if s.exit_code), 0)

    @property
    def failed_step(self) -> str | None:
        return next((s.verb for s in self.steps if s.exit_code), None)


def plan(available: tuple[str, ...], skip: set[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [(verb, extra) for verb, extra in STEPS if verb in available and verb not in skip]


def run_steps(
    steps: list[tuple[str, tuple[str, ...]]],
    params: Path,
    invoke: Callable[[list[str]], int],
) -> PipelineResult:
    result = PipelineResult()
    for number, (verb, extra) in enumerate(steps, start=1):
        print(f"\n==> [{number}/{len(steps)}] {verb}", flush=True)
        started = time.perf_counter()
        code = invoke([verb, "--params", str(params), *extra])
        seconds = time.perf_counter() - started
        result.steps.append(StepTiming(verb, seconds, code))
        state = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"<== {verb}: {state} in {seconds:.1f} s", flush=True)
        if code:
            break
    return result


def timing_table(result: PipelineResult) -> str:
    total = sum(s.seconds for s in result.steps) or 1.0
    lines = ["| step | seconds | share | result |", "|---|---:|---:|---|"]
    for s in result.steps:
        state = "ok" if s.exit_code == 0 else f"exit {s.exit_code}"
        lines.append(f"| {s.verb} | {s.seconds:.1f} | {s.seconds / total:.0%} | {state} |")
    return "\n".join(lines)


def print_failure(result: PipelineResult) -> None:
    print(
        f"\nThe pipeline stopped at '{result.failed_step}' (exit {result.exit_code}); "
        "nothing after it ran. The message above says why.",
        file=sys.stderr,
    )
