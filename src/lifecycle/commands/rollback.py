"""Verb `rollback`: move an environment's alias back to the previous version (idempotent)."""

from __future__ import annotations

import argparse

HELP = "Move an environment's alias back to its previous version (or --to); a rerun is a no-op."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="prod", help="environment (default: prod)")
    parser.add_argument("--to", help="version to roll back to (default: the previous one)")
    parser.add_argument("--reason", default="", help="why, for the history")
    parser.add_argument("--actor", help="who (default: GITHUB_ACTOR or the user name)")


def run(args: argparse.Namespace) -> int:
    from lifecycle import github, registry
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    actor = args.actor or registry.default_actor()
    move = registry.rollback(settings, args.env, args.to, actor=actor, reason=args.reason)
    print(move.message)
    for name, value in move.outputs(settings.model.name).items():
        github.set_output(name, value)
    return 0
