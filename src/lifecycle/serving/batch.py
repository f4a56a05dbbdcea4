"""Batch scoring: a table scored offline by a registered model version, chunk by chunk.

The input is a parquet or CSV file, or a folder of them (read in name order), local or at any
fsspec URL. Parquet is read in record batches (``ParquetFile.iter_batches``: at most one row
group in memory), CSV in ``chunk_rows`` chunks (pandas), so memory is bounded by the chunk, not
the file. Each chunk is checked column by column against the request schema the service uses
(``lifecycle.serving.spec.feature_specs``: the model's signature bounded by the data contract);
the valid rows go to the model, each bad row to the rejected table with its id and the reason.
``WORKERS`` chunks are checked and scored at once, each in its own thread (the model's OpenMP
threads shared among them: on a busy machine, one chunk's threads meeting at every tree of the
model cost more than they gain), while the main thread reads the next chunk and writes the
finished ones in input order: at most ``WORKERS`` + 1 chunks in memory.

Two parquet files are written chunk by chunk, each under a temporary name renamed at the end,
so a failure leaves neither behind: the output (the id column, ``probability`` of the positive
label, ``prediction`` (the target's own label, as the service answers) and ``model_version``,
the names the service and its prediction log use)
and ``<output>.rejected.parquet`` (the id column and ``reason``). The id column is
``data.id_column`` when the input has it, else ``row``: the row's position in the input.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle.errors import DataError, RegistryError
from lifecycle.serving import batch_checks
from lifecycle.serving.batch_io import Input, Output
from lifecycle.serving.spec import FeatureSpec, feature_specs, model_labels
from lifecycle.settings import Settings
from lifecycle.training.model import Labels

ROW = "row"  # the id column when the input has none: the row's position in the input
REASON = "reason"
REJECTED_SUFFIX = ".rejected.parquet"
CHUNK_ROWS = 100_000  # the default rows per chunk
WORKERS = 2  # chunks checked and scored at once; with THREADS, the model's threads each may use
THREADS = max(1, (os.cpu_count() or 1) // WORKERS)


@dataclass(frozen=True)
class Scorer:
    """A registered version, loaded: its fitted pipeline, its request schema and its labels."""

    model: Any
    features: tuple[FeatureSpec, ...]
    version: str
    labels: Labels = field(default_factory=Labels)


@dataclass
class Summary:
    output: str
    rejected_output: str
    rows: int = 0
    scored: int = 0
    rejected: int = 0
    seconds: float = 0.0
    bad_rows: Counter[str] = field(default_factory=Counter)  # feature -> rows bad in it

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def load_scorer(settings: Settings, ref: str) -> Scorer:
    """The version named by ``ref`` (number or alias), downloaded once, with its schema."""
    import mlflow

    from lifecycle.registry import models

    version = str(models.resolve(settings, ref).version)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = f"models:/{settings.model.name}/{version}"
    with tempfile.TemporaryDirectory(prefix="lifecycle-score-") as scratch:
        try:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=scratch))
        except Exception as exc:  # MLflow raises several types for a missing artifact
            raise RegistryError(f"cannot download {uri}: {exc}") from None
        features = feature_specs(settings, local)
        model = models.load_uri(str(local))
        labels = model_labels(local)
    return Scorer(model, features, version, labels)


def score(
    scorer: Scorer,
    source: str,
    target: str,
    chunk_rows: int = CHUNK_ROWS,
    id_column: str | None = None,
    id_required: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Score ``source`` into ``target`` (and ``target`` + REJECTED_SUFFIX); the counts."""
    say = progress or _stderr
    files = Input(source)
    ident = id_column if id_column and (id_required or files.has_column(id_column)) else None
    summary = Summary(target, target + REJECTED_SUFFIX)
    total, started = files.total_rows(), time.perf_counter()
    pending: deque[Future[Scored]] = deque()

    def write(scored: Output, rejected: Output, keep: int) -> None:
        """The oldest chunks written, in input order, until ``keep`` are left in flight."""
        while len(pending) > keep:
            done = pending.popleft().result()
            scored.write(done.scores, model_version=scorer.version)
            rejected.write(done.rejected)
            summary.rows += done.rows
            summary.scored += done.scored
            summary.rejected += done.rows - done.scored
            summary.bad_rows.update(done.bad_rows)
            summary.seconds = time.perf_counter() - started
            say(_progress_line(summary, total))

    with (
        Output(target) as scored,
        Output(summary.rejected_output) as rejected,
        ThreadPoolExecutor(WORKERS) as pool,
    ):
        read = 0
        try:
            for chunk in files.chunks(scorer.features, ident, chunk_rows):
                ids = chunk[ident] if ident else pd.RangeIndex(read, read + len(chunk))
                read += len(chunk)
                work = (scorer, chunk, pd.Series(ids), ident or ROW)
                pending.append(pool.submit(_score_chunk, *work))
                write(scored, rejected, keep=WORKERS)
        except DataError:  # a file that cannot be read: the chunks before it are still reported
            write(scored, rejected, keep=0)
            raise
        write(scored, rejected, keep=0)
        if summary.scored == 0:
            raise DataError(_nothing_scored(source, summary))
        scored.commit()
        rejected.commit()
    return summary


@dataclass(frozen=True)
class Scored:
    """One chunk checked and scored: the columns of both outputs, and its counts."""

    rows: int
    scored: int
    scores: dict[str, Any]
    rejected: dict[str, Any]
    bad_rows: dict[str, int]


def _score_chunk(scorer: Scorer, chunk: pd.DataFrame, ids: pd.Series, id_name: str) -> Scored:
    import pyarrow as pa
    from threadpoolctl import threadpool_limits

    checked = batch_checks.check(chunk, scorer.features)
    valid, reasons = checked.valid, checked.reasons
    every = not reasons  # the common case: no row to leave out, no copy to make
    frame = checked.frame if every else checked.frame[valid]
    with threadpool_limits(THREADS, user_api="openmp"):  # this thread's own, not the process's
        probability, prediction = batch_checks.predict(scorer.model, frame, scorer.labels)
    good = (ids if every else ids[valid]).reset_index(drop=True)
    bad = ids[~valid].reset_index(drop=True)
    return Scored(
        rows=len(chunk),
        scored=len(frame),
        scores={id_name: good, "probability": probability, "prediction": prediction},
        rejected={id_name: bad, REASON: pa.array(reasons, pa.string())},
        bad_rows=checked.bad_rows,
    )


def _progress_line(summary: Summary, total: int | None) -> str:
    of = f" of {total:,}" if total is not None else ""
    return f"scored {summary.rows:,}{of} rows ({summary.rows_per_s:,.0f} rows/s)"


def _nothing_scored(source: str, summary: Summary) -> str:
    if summary.rows == 0:
        return f"{source} holds no rows: nothing was written"
    columns = ", ".join(f"{name} ({count})" for name, count in summary.bad_rows.most_common(5))
    return (
        f"none of the {summary.rows} rows of {source} is valid (bad values in: {columns}); "
        "nothing was written. Fix the input or score it with the model it was made for."
    )


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
