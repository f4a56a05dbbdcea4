"""Verb `describe`: what the data holds, checked against the settings."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Summarise the data: rows, columns, missing values, positive rate, data version."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=None, help="a .parquet or .csv file (default: data.path)"
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.data.dataset import features_and_target, load_dataset
    from lifecycle.data.dvc import data_version
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    path = args.data if args.data is not None else settings.data.path
    frame = load_dataset(settings, path)
    _, labels = features_and_target(frame, settings)
    print(f"data:          {path}")
    print(f"version:       {data_version(settings, path)}")
    print(f"rows:          {len(frame):,}")
    print(f"columns:       {frame.shape[1]}")
    print(
        f"positive rate: {labels.mean():.1%} ({settings.data.target} == "
        f"{settings.data.positive_label!r})"
    )
    for attribute in settings.data.protected_attributes:
        rates = labels.groupby(frame[attribute]).mean().sort_index()
        shown = ", ".join(f"{group} {rate:.1%}" for group, rate in rates.items())
        print(f"  by {attribute}: {shown}")
    print("\ncolumn                  dtype      missing")
    for column in frame.columns:
        share = frame[column].isna().mean()
        print(f"{column:<23} {frame[column].dtype!s:<10} {share:>7.1%}")
    return 0
