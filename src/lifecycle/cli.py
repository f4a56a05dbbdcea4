"""The one entry point: ``lifecycle <verb>`` (or ``python -m lifecycle <verb>``).

Each verb is a small module in ``lifecycle.commands`` with ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``. Verb modules import heavy libraries only inside ``run``, so ``--help``
stays fast. Domain errors are caught here and only here: exit 2 for usage, config or data
errors, 1 for a failed gate, 0 for a pass.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from lifecycle import __version__
from lifecycle.errors import LifecycleError

# The lifecycle's verbs, in the order the lifecycle runs them.
VERBS = (
    "pull",
    "generate",
    "describe",
    "validate",
    "train",
    "gate",
    "register",
    "build",
    "serve",
    "loadtest",
    "promote",
    "rollback",
    "history",
    "drift",
    "alert",
    "card",
    "dora",
    "pipeline",
    "deploy",
    "report",
    "environments",
    "doctor",
)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--params",
        type=Path,
        default=Path("params.yaml"),
        help="settings file (default: params.yaml)",
    )
    parser = argparse.ArgumentParser(
        prog="lifecycle",
        description="The machine-learning lifecycle, one verb per step. Settings: params.yaml.",
    )
    parser.add_argument("--version", action="version", version=f"lifecycle {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="<verb>", required=True)
    for name in VERBS:
        module = importlib.import_module(f"lifecycle.commands.{name}")
        verb = sub.add_parser(name, parents=[common], help=module.HELP, description=module.HELP)
        module.add_arguments(verb)
        verb.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except LifecycleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
