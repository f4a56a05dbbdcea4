"""Verb `validate`: data tests (Great Expectations, from the data contract) and deepchecks data
integrity on the training data, or on any batch with --data."""

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
    from lifecycle import data, github, tracking
    from lifecycle.gates.contract import load_contract
    from lifecycle.gates.data_tests import run_data_tests
    from lifecycle.gates.integrity import run_integrity
    from lifecycle.gates.publish import publish, verdict
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    contract = load_contract(settings)
    path = args.data or settings.data.path
    hint = data.PULL_HINT if path == settings.data.path else "check the path given to --data"
    frame = data.read_table(path, hint=hint)
    tracking.progress(f"validating {path}: {len(frame)} rows, {len(frame.columns)} columns…")
    reports = [run_data_tests(frame, settings, contract, args.reports)]
    tracking.progress("running the deepchecks integrity suite…")
    reports.append(run_integrity(frame, settings, args.reports))
    publish(reports, args.reports)
    github.set_output("passed", str(not any(r.blocking for r in reports)).lower())
    return verdict(reports, args.reports)
