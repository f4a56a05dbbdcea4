"""Verb `pipeline`: the whole local lifecycle on the embedded defaults, then a short summary."""

from __future__ import annotations

import argparse

HELP = "Run every lifecycle step in order (pull, validate, train, gate, register, build, loadtest)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated steps to leave out, e.g. --skip build,loadtest",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle import cli, pipeline, summary
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    steps = pipeline.plan(cli.VERBS, skip)
    print("Lifecycle steps: " + " -> ".join(verb for verb, _ in steps), flush=True)
    result = pipeline.run_steps(steps, args.params, cli.main)
    print("\n" + pipeline.timing_table(result))
    if result.exit_code:
        pipeline.print_failure(result)
        return result.exit_code
    print("\n" + summary.render(settings))
    return 0
