"""Verb `history`: every recorded promotion and rollback, oldest first."""

from __future__ import annotations

import argparse
import json
from typing import Any

HELP = "Show who moved which alias to which version, when, why, who approved it, from which run."

# who moved the alias, why, who approved the run's deployment and the run (ci_run_url)
COLUMNS = ("at", "action", "environment", "from", "to", "actor", "reason", "approver", "ci_run_url")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", help="only this environment")
    parser.add_argument("--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    from lifecycle.registry import aliases
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    entries = aliases.history(settings, args.env)
    if args.format == "json":
        print(json.dumps(entries, indent=2))
    elif not entries:
        print(f"no promotion or rollback of '{settings.model.name}' is recorded yet")
    else:
        print(table(entries))
    return 0


def table(entries: list[dict[str, Any]]) -> str:
    """A Markdown table (readable in a terminal, rendered in a job summary)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for entry in entries:
        cells = ["" if entry.get(c) is None else str(entry[c]).replace("|", "/") for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
