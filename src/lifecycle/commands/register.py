"""Verb `register`: register a training run's model as a new version; alias `candidate`."""

from __future__ import annotations

import argparse

HELP = "Register a training run's model (refused if an enforced gate failed); alias candidate."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", help="the training run (default: the latest finished training run)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle import github, registry, tracking
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    run_id = args.run_id or tracking.latest_run_id(settings)
    version = registry.register(settings, run_id)
    uri = registry.model_uri(settings, version)
    print(f"registered {settings.model.name} version {version} from run {run_id}")
    print(f"alias '{registry.CANDIDATE}' -> version {version}  ({uri})")
    github.set_output("version", version)
    github.set_output("run-id", run_id)
    github.set_output("model-uri", uri)
    return 0
