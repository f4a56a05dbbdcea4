"""Verb `dora`: deployment frequency, lead time, change failure rate and time to recover."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "DORA metrics of an environment from the registry's promotion and rollback history."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="prod", help="environment (default: prod)")
    parser.add_argument(
        "--days", type=float, default=30, help="window in days, up to now (default: 30)"
    )
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    import json
    import os

    from lifecycle.errors import UsageError
    from lifecycle.gates.result import write_text
    from lifecycle.github import actions
    from lifecycle.monitoring import dora
    from lifecycle.registry import aliases
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    aliases.alias_for(settings, args.env)  # an unknown environment is a UsageError
    if args.days <= 0:
        raise UsageError(f"--days must be positive (got {args.days:g})")
    found = dora.compute(aliases.history(settings), args.env, args.days, dora.registry_origin)
    body = json.dumps(found.to_dict(), indent=2) + "\n"
    markdown = dora.to_markdown(found)
    write_text(args.reports / "dora.json", body)
    write_text(args.reports / "dora.md", markdown)
    if args.format == "json":
        print(body, end="")  # stdout stays pure JSON; the Markdown goes to a job summary only
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            actions.append_summary(markdown)
    else:
        actions.append_summary(markdown)
    actions.set_output("deployments", str(len(found.deployments)))
    rate = found.change_failure_rate
    actions.set_output("change-failure-rate", "" if rate is None else f"{rate:.4f}")
    return 0
