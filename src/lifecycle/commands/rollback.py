"""Verb `rollback`: redeploy a version the environment served before, then move its alias back."""

from __future__ import annotations

import argparse

HELP = (
    "Redeploy an environment's previous version (or --to one it served), smoke-test it, then "
    "move its alias back; a rerun is a no-op."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="prod", help="environment (default: prod)")
    parser.add_argument(
        "--to",
        metavar="VERSION",
        help="a version number the environment has served (default: the one before the current)",
    )
    parser.add_argument("--reason", default="", help="why, for the history")
    parser.add_argument("--actor", help="who (default: GITHUB_ACTOR or the user name)")
    parser.add_argument(
        "--github-deployment",
        choices=("true", "false"),
        default="true",
        help="record a GitHub deployment of the redeploy when a token is set (default: true)",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.commands.deploy import report
    from lifecycle.deploy import deployment
    from lifecycle.github import actions
    from lifecycle.registry import aliases
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    actor = args.actor or aliases.default_actor()
    done = deployment.rollback(settings, args.env, args.to, actor=actor, reason=args.reason)
    reported: set[str] = set()
    if isinstance(done, aliases.Move):  # nothing to do: no redeploy, no move
        move: aliases.Move | None = done
    else:
        report(settings, done, args.github_deployment == "true")
        move, reported = done.move, {"version", "changed"}
    if move is not None:
        print(move.message)
        for name, value in move.outputs(settings.model.name).items():
            if name not in reported:
                actions.set_output(name, value)
    return 0
