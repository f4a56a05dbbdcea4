"""Verb `doctor`: check the settings and where the registry lives, before a workflow does work."""

from __future__ import annotations

import argparse
import os
import shutil

HELP = "Check settings, tools and the model registry (--require-remote-registry before deploys)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--require-remote-registry",
        action="store_true",
        help="fail unless MLFLOW_TRACKING_URI names a reachable, persistent MLflow server",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.errors import ConfigError
    from lifecycle.github import actions
    from lifecycle.registry import remote
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    lines = [f"- settings: `{args.params}` is valid (model `{settings.model.name}`)"]
    if args.require_remote_registry:
        try:
            uri = remote.require_remote()
        except ConfigError as exc:
            actions.error(str(exc), title="No persistent model registry")
            raise
        registry = "remote"
        lines.append(f"- registry: `{uri}` answers (persistent)")
    else:
        uri = remote.redact(os.environ.get("MLFLOW_TRACKING_URI", "") or "embedded")
        registry = "embedded" if uri == "embedded" else "configured"
        lines.append(f"- registry: `{uri}` (not checked; --require-remote-registry checks it)")
    for tool in ("git", "dvc", "bentoml"):
        lines.append(f"- {tool}: {'found' if shutil.which(tool) else 'not on PATH'}")
    actions.set_output("registry", registry)
    actions.set_output("tracking-uri", uri)
    actions.append_summary("### lifecycle doctor\n\n" + "\n".join(lines))
    return 0
