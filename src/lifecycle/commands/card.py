"""Verb `card`: the Markdown model card of a registered version, written to reports/ and printed."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Write the model card (data, params, metrics, gates, fairness, use, limits) of a version."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, metavar="N", help="the model version number")
    which.add_argument(
        "--alias", help="the version under this alias (default: candidate, the newest registered)"
    )
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.gates.result import write_text
    from lifecycle.github import actions
    from lifecycle.monitoring.modelcard import build_card
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    number, card = build_card(settings, str(args.version or args.alias or "candidate"))
    path = args.reports / f"model-card-v{number}.md"
    write_text(path, card)
    print(card)
    actions.set_output("path", str(path))
    actions.set_output("version", number)
    return 0
