"""Verb `generate`: write synthetic credit applications, optionally with injected problems."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Write synthetic credit data (any size, seeded, with optional injected problems)."
# lifecycle.datagen.PROBLEMS, spelt out so that `--help` need not import pandas
PROBLEMS = ("drift", "bias", "nulls", "schema", "leakage")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=30_000, help="number of rows (default 30000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--problems",
        default="",
        help=f"comma-separated problems to inject: {', '.join(PROBLEMS)} (default none)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="a .parquet or .csv file (default: data.path from the settings)",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.data import dataset, generator
    from lifecycle.errors import UsageError
    from lifecycle.settings import load_settings

    problems = generator.parse_problems(args.problems)
    out = args.out if args.out is not None else load_settings(args.params).data.path
    dataset.table_kind(out, error=UsageError)  # refuse a bad suffix before generating
    frame = generator.generate(args.rows, args.seed, problems)
    dataset.write_table(frame, out)
    print(
        f"wrote {len(frame):,} rows x {frame.shape[1]} columns to {out} "
        f"(seed {args.seed}, problems: {', '.join(problems) or 'none'}, "
        f"positive rate {frame['default'].mean():.1%})"
    )
    return 0
