"""Verb `promote`: point an environment's alias at a model version and record who and why."""

from __future__ import annotations

import argparse

HELP = "Move an environment's alias (dev, staging, prod) to a model version; recorded in history."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment from params.yaml, e.g. staging")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--version", help="the model version to promote")
    source.add_argument(
        "--from-alias",
        default="candidate",
        help="promote the version this alias points at (default: candidate)",
    )
    parser.add_argument("--reason", default="", help="why, for the history")
    parser.add_argument("--actor", help="who (default: GITHUB_ACTOR or the user name)")


def run(args: argparse.Namespace) -> int:
    from lifecycle import github, registry
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    actor = args.actor or registry.default_actor()
    move = registry.promote(
        settings, args.env, args.version or args.from_alias, actor=actor, reason=args.reason
    )
    print(move.message)
    for name, value in move.outputs(settings.model.name).items():
        github.set_output(name, value)
    return 0
