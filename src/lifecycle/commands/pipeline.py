"""Verb `pipeline`: the whole local lifecycle on the embedded defaults, then a short summary.

Each step is the same CLI verb a person or CI runs, in one process: steps run in order and stop at
the first failure (its exit code is the pipeline's). Imports are paid once, so the timings show
what each step really costs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HELP = "Run every lifecycle step in order (pull, validate, train, gate, register, build, loadtest)."

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
    verbose: bool = False,
) -> PipelineResult:
    result = PipelineResult()
    common = ["--params", str(params), *(["--verbose"] if verbose else [])]
    for number, (verb, extra) in enumerate(steps, start=1):
        print(f"\n==> [{number}/{len(steps)}] {verb}", flush=True)
        started = time.perf_counter()
        code = invoke([verb, *common, *extra])
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated steps to leave out, for example --skip build,loadtest",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.commands import VERBS
    from lifecycle.registry import summary
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    steps = plan(VERBS, skip)
    print("Lifecycle steps: " + " -> ".join(verb for verb, _ in steps), flush=True)
    result = run_steps(steps, args.params, args.invoke, args.verbose)
    print("\n" + timing_table(result))
    if result.exit_code:
        print_failure(result)
        return result.exit_code
    print("\n" + summary.render(settings))
    return 0
