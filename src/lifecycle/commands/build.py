"""Verb `build`: a Bento from a registered model version, recorded on that version."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Build the Bento (BentoML) for a registered model version and record its tag and sha256."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", help="the registered model version to build (a number)")
    which.add_argument("--alias", help="the alias whose version to build (default: candidate)")
    parser.add_argument(
        "--bentofile",
        type=Path,
        default=Path("bentofile.yaml"),
        help="BentoML build file (default: bentofile.yaml)",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle import github
    from lifecycle.serving import bento
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    home = bento.use_local_home()
    ref = args.version or args.alias or "candidate"
    result = bento.build(settings, ref, args.bentofile)
    print(
        f"built Bento {result.bento_tag} from {settings.model.name} version {result.model_version}"
    )
    print(f"model artifact sha256 {result.sha256} (BentoML model {result.bento_model})")
    print(f"BentoML store: {home}")
    print(f"model version {result.model_version} tags: {bento.TAG_BENTO}, {bento.TAG_SHA256}")
    github.set_output("bento-tag", result.bento_tag)
    github.set_output("model-version", result.model_version)
    github.set_output("model-sha256", result.sha256)
    github.set_output("bentoml-home", str(home))
    if github.in_actions():
        github.append_summary(
            f"### Build\n\nBento `{result.bento_tag}` from `{settings.model.name}` version "
            f"{result.model_version}; model artifact sha256 `{result.sha256}`."
        )
    return 0
