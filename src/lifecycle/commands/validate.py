"""Verb `validate`: the data-stage gates (lifecycle.gates.registry): data tests (Great
Expectations, from the data contract) and deepchecks data integrity on the training data, or on
any batch with --data."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Validate data against the contract (Great Expectations) and for integrity (deepchecks)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, help="a .parquet or .csv batch to validate (default: data.path)"
    )
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.data import dataset
    from lifecycle.gates import registry
    from lifecycle.gates.publish import publish, verdict
    from lifecycle.registry import tracking
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    gates = registry.select(None, "data")
    path = args.data or settings.data.path
    frame = dataset.load_dataset(settings, path)  # first what train needs: columns, types, labels
    tracking.progress(f"validating {path}: {len(frame)} rows, {len(frame.columns)} columns…")
    context = registry.Context(settings, args.reports, frame=frame)
    reports = [registry.run(gate, context) for gate in gates]
    publish(reports, args.reports, verbose=args.verbose)
    return verdict(reports, args.reports)
