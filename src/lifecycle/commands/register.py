"""Verb `register`: register a training run's model as a new version; alias `candidate`.

The version's model card is written next to the gate reports (reports/model-card-v<N>.md) and
logged to the training run as `model-card.md`, so every registered version has one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.settings import Settings

HELP = "Register a training run's model (refused if an enforced gate failed); alias candidate."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", help="the training run (default: the latest finished training run)"
    )
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="where the model card is written"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.github import actions
    from lifecycle.registry import models, tracking
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    run_id = args.run_id or tracking.latest_run_id(settings)
    version = models.register(settings, run_id)
    uri = models.model_uri(settings, version)
    print(f"registered {settings.model.name} version {version} from run {run_id}")
    print(f"alias '{models.CANDIDATE}' -> version {version}  ({uri})")
    actions.set_output("version", version)
    actions.set_output("run-id", run_id)
    actions.set_output("model-uri", uri)
    card = _model_card(settings, version, run_id, args.reports)
    if card:
        actions.set_output("model-card", str(card))
    return 0


def _model_card(settings: Settings, version: str, run_id: str, reports: Path) -> Path | None:
    """Write and log the card; a failure here is a warning: the version is registered."""
    from lifecycle.errors import LifecycleError
    from lifecycle.gates.result import write_text
    from lifecycle.github import actions
    from lifecycle.monitoring.modelcard import build_card, log_card

    try:
        number, card = build_card(settings, version)
        path = reports / f"model-card-v{number}.md"
        write_text(path, card)
        log_card(run_id, card)
    except (LifecycleError, OSError) as exc:
        message = f"model card of version {version} not written ({exc}); `lifecycle card` retries"
        actions.warning(message)
        print(f"warning: {message}")
        return None
    print(f"model card: {path} (and model-card.md in run {run_id})")
    return path
