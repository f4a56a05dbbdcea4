"""Verb `pull`: fetch the versioned data from the DVC remote, through DVC's Python API."""

from __future__ import annotations

import argparse

HELP = "Fetch the versioned data from the DVC remote (dvc pull of the file tracking data.path)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remote", default=None, help="DVC remote to use (default: core.remote)")
    parser.add_argument(
        "--force", action="store_true", help="overwrite local changes to the tracked data"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.data.dvc import REBUILD, data_version, dvc_pointer, pull
    from lifecycle.errors import DataError
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    path = settings.data.path
    pointer = dvc_pointer(path)
    if pointer is None:
        raise DataError(
            f"no .dvc file tracks {path} (expected data.dvc beside data/): run from the "
            f"repository root, {REBUILD}"
        )
    result = pull(pointer, args.remote, args.force)
    changed = [*result.get("added", []), *result.get("modified", [])]
    fetched = result.get("stats", {}).get("fetched", 0)
    state = f"updated {', '.join(changed)}" if changed else "the workspace was already up to date"
    print(f"fetched {fetched} object(s) from the remote; {state}")
    print(f"{path} is at version {data_version(settings, path)}")
    return 0
