"""The one entry point: ``lifecycle <verb>`` (or ``python -m lifecycle <verb>``).

Each verb is a small module in ``lifecycle.commands`` with ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``. Every verb takes ``--params`` and ``--verbose`` (steps that judge or
train print a compact table by default, their full Markdown report with it). Verb modules
import heavy libraries only inside ``run``, so ``--help`` stays fast. Domain errors are caught
here and only here: exit 2 for usage, config or data errors, 1 for a failed gate, 0 for a pass.

An option given an empty value (``--run-id ""`` or ``--run-id=``) counts as not given: its
default applies. So a composite action passes every input as a flag in one command line, and an
empty input means "the default" without any shell logic.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from lifecycle import __version__
from lifecycle.commands import VERBS
from lifecycle.errors import LifecycleError


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--params",
        type=Path,
        default=Path("params.yaml"),
        help="settings file (default: params.yaml)",
    )
    common.add_argument(
        "--verbose",
        action="store_true",
        help="print the full report (the Markdown in reports/) instead of the compact table",
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
        verb.set_defaults(run=module.run, invoke=main)  # `pipeline` runs verbs through main
    return parser


def drop_empty(argv: Sequence[str]) -> list[str]:
    """``argv`` without the options given an empty value (``--name ""`` or ``--name=``).

    No verb takes a positional argument, so an empty word can only be an option's value.
    """
    kept: list[str] = []
    words = list(argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word.startswith("--") and word.endswith("=") and word.count("=") == 1:
            index += 1  # --name=
        elif word.startswith("--") and "=" not in word and words[index + 1 : index + 2] == [""]:
            index += 2  # --name ""
        else:
            kept.append(word)
            index += 1
    return kept


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    words = sys.argv[1:] if argv is None else argv
    return build_parser().parse_args(drop_empty(words))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except LifecycleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        failure = _registry_failure(exc)
        if failure is None:
            raise
        print(f"error: {failure}", file=sys.stderr)
        return failure.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _registry_failure(exc: Exception) -> LifecycleError | None:
    """An unreachable or failing model registry, wherever MLflow raised it: exit 2, no traceback."""
    if "mlflow" not in sys.modules:
        return None
    from lifecycle.registry.tracking import registry_failure

    return registry_failure(exc)
