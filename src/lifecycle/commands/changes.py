"""Verb `changes`: what differs between this checkout and the version an environment serves."""

from __future__ import annotations

import argparse

HELP = (
    "Compare this checkout's data version, settings, code and locked packages with those recorded "
    "on the version an environment serves; output changed=true/false (retraining skips on false)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="prod", help="environment (default: prod)")


def run(args: argparse.Namespace) -> int:
    from lifecycle.github import actions
    from lifecycle.registry import changes
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    found = changes.compare(settings, args.env)
    print(found.summary())
    actions.append_summary(found.markdown(), echo=args.verbose)  # the table: job summary
    actions.set_output("changed", str(found.changed).lower())
    actions.set_output("summary", found.summary())
    return 0
