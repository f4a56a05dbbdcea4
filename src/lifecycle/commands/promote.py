"""Verb `promote`: point an environment's alias at a model version and record who and why."""

from __future__ import annotations

import argparse

HELP = "Move an environment's alias (dev, staging, prod) to a model version; recorded in history."


def version_number(text: str) -> str:
    """argparse type of --version: a version number ("3" or "v3"), never an alias."""
    number = text.strip().removeprefix("v").removeprefix("V")
    if not number.isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a version number (to name an alias, use --alias)"
        )
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment from params.yaml, e.g. staging")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--version", type=version_number, help="the version number to promote")
    source.add_argument(
        "--alias",
        "--from-alias",
        dest="alias",
        default="candidate",
        help="promote the version this alias points at (default: candidate)",
    )
    parser.add_argument("--reason", default="", help="why, for the history")
    parser.add_argument("--actor", help="who (default: GITHUB_ACTOR or the user name)")


def run(args: argparse.Namespace) -> int:
    from lifecycle.github import actions
    from lifecycle.registry import aliases
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    actor = args.actor or aliases.default_actor()
    move = aliases.promote(
        settings, args.env, args.version or args.alias, actor=actor, reason=args.reason
    )
    print(move.message)
    for name, value in move.outputs(settings.model.name).items():
        actions.set_output(name, value)
    return 0
