"""Verb `score`: batch scoring of a file, a folder or an fsspec URL by a registered version.

Writes the scores (the id column, ``probability``, ``prediction``, ``model_version``) to
``--output`` and the rows that could not be scored, with their ids and the reason, to
``<output>.rejected.parquet``; prints a progress line per chunk on stderr. Exit 0 with the
counts, 2 when no row at all could be scored (then nothing is written). Outputs: ``output``,
``rejected-output``, ``rows``, ``scored``, ``rejected``, ``model-version``.
"""

from __future__ import annotations

import argparse

HELP = "Score a parquet/CSV file, folder or URL with a registered version, chunk by chunk."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        required=True,
        metavar="PATH_OR_URL",
        help="a .parquet or .csv file, or a folder of them; any fsspec URL (s3://, gs://, ...)",
    )
    parser.add_argument(
        "--output",
        required=True,
        metavar="PATH_OR_URL",
        help="the parquet file to write the scores to (also <output>.rejected.parquet)",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", type=int, metavar="N", help="the registered version to use")
    which.add_argument("--alias", help="the version under this alias (e.g. prod)")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=100_000,
        metavar="N",
        help="rows per chunk: bounds the memory used (default: 100000)",
    )
    parser.add_argument(
        "--id-column",
        metavar="COLUMN",
        help="the input's row id column (default: data.id_column when the input has it, "
        "else the row's position in the input)",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.errors import UsageError
    from lifecycle.github import actions
    from lifecycle.serving import batch
    from lifecycle.settings import load_settings

    if args.chunk_rows < 1:
        raise UsageError("--chunk-rows must be at least 1")
    settings = load_settings(args.params)
    ref = str(args.version) if args.version is not None else args.alias
    scorer = batch.load_scorer(settings, ref)
    print(f"scoring {args.input} with {settings.model.name} version {scorer.version}")
    summary = batch.score(
        scorer,
        args.input,
        args.output,
        chunk_rows=args.chunk_rows,
        id_column=args.id_column or settings.data.id_column,
        id_required=args.id_column is not None,
    )
    print(
        f"{summary.rows:,} rows in {summary.seconds:.1f} s ({summary.rows_per_s:,.0f} rows/s): "
        f"{summary.scored:,} scored into {summary.output}, {summary.rejected:,} rejected into "
        f"{summary.rejected_output}"
    )
    if summary.rejected:
        listed = ", ".join(f"{name} ({n})" for name, n in summary.bad_rows.most_common(5))
        print(f"rejected rows have bad values in: {listed}")
    outputs = {
        "output": summary.output,
        "rejected-output": summary.rejected_output,
        "rows": str(summary.rows),
        "scored": str(summary.scored),
        "rejected": str(summary.rejected),
        "model-version": scorer.version,
    }
    for name, value in outputs.items():
        actions.set_output(name, value)
    return 0
