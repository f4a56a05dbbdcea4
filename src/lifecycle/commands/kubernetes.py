"""Verb `kubernetes`: write an environment's Kubernetes manifests (a Deployment of the Bento's
image and its Service) for `kubectl apply`, typically from a deploy target `command`."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = (
    "Write an environment's Kubernetes manifests (Deployment and Service of the Bento's image) "
    "for kubectl apply; talks to no cluster."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment from params.yaml, e.g. prod")
    parser.add_argument(
        "--image",
        default="",
        help="the Bento's container image, e.g. ghcr.io/owner/repo@sha256:... (in a deploy "
        "command: {image})",
    )
    parser.add_argument(
        "--version",
        type=int,
        help="the model version, for the labels (in a deploy command: {version})",
    )
    parser.add_argument("--out", type=Path, help="folder for the manifests (default: k8s/<env>)")


def run(args: argparse.Namespace) -> int:
    from lifecycle.deploy import kubernetes
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    written = kubernetes.render(settings, args.env, args.image, args.version, args.out)
    for path in written:
        print(f"wrote {path}")
    print(f"apply with: kubectl apply -f {written[0].parent}")
    return 0
