"""Verb `build`: a Bento from a registered model version, recorded on that version.

The exported Bento is stored with the version in the registry's artifact store, where `deploy`,
`rollback`, `serve` and `loadtest` on another runner fetch it (sha256 checked). With
``--export-to`` it is also written to a file. ``--record-image`` builds nothing: it records the
digest of the image pushed for the version's Bento, which deploy commands receive as {image}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Build the Bento (BentoML) for a registered model version and record its tag and sha256."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, help="the registered model version to build")
    which.add_argument("--alias", help="the alias whose version to build (default: candidate)")
    parser.add_argument(
        "--export-to", type=Path, metavar="FILE", help="also write the Bento to this .bento archive"
    )
    parser.add_argument(
        "--bentofile",
        type=Path,
        default=Path("bentofile.yaml"),
        help="BentoML build file (default: bentofile.yaml)",
    )
    parser.add_argument(
        "--record-image",
        metavar="IMAGE@DIGEST",
        help="build nothing: record the pushed image (name@sha256:...) of the version's Bento",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.github import actions
    from lifecycle.serving import bento
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    ref = str(args.version) if args.version is not None else args.alias or "candidate"
    if args.record_image:
        from lifecycle.serving import archive

        version = archive.record_image(settings, ref, args.record_image)
        print(f"model version {version}: {archive.TAG_IMAGE} = {args.record_image}")
        actions.set_output("image", args.record_image)
        return 0
    home = bento.use_local_home()
    result = bento.build(settings, ref, args.bentofile)
    print(
        f"built Bento {result.bento_tag} from {settings.model.name} version {result.model_version}"
    )
    print(f"model artifact sha256 {result.sha256} (BentoML model {result.bento_model})")
    print(f"BentoML store: {home}")
    print(f"Bento stored in the registry: {result.archive} (sha256 {result.archive_sha256})")
    print(f"model version {result.model_version} tags: {bento.TAG_BENTO}, {bento.TAG_SHA256}")
    actions.set_output("bento-tag", result.bento_tag)
    actions.set_output("model-version", result.model_version)
    actions.set_output("model-sha256", result.sha256)
    actions.set_output("bentoml-home", str(home))
    if args.export_to is not None:
        bento.export(result.bento_tag, args.export_to)
        print(f"Bento exported to {args.export_to}")
        actions.set_output("bento-file", str(args.export_to))
    if actions.in_actions():
        actions.append_summary(
            f"### Build\n\nBento `{result.bento_tag}` from `{settings.model.name}` version "
            f"{result.model_version}; model artifact sha256 `{result.sha256}`."
        )
    return 0
