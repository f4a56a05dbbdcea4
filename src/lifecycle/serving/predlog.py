"""The prediction log: every record the service scores, for monitoring to read.

One flat record per scored row (a batch request writes one per row, sharing its request id):

======================  =====================================================================
``timestamp``           when the row was scored: ISO 8601, UTC, microseconds
``request_id``          the request's id (the ``X-Request-ID`` header when sent, else a uuid4)
``endpoint``            ``predict`` or ``predict_batch``
``index``               the row's position in its request (0 for ``predict``)
``model_name``          the registered model's name
``model_version``       the registered model version the Bento was built from
``<feature>``           one column per feature, as received (null when sent as null)
``prediction``          the predicted label
``probability``         the predicted probability of the positive label
======================  =====================================================================

Sinks (``serving.prediction_log`` in params.yaml): ``jsonl`` appends one JSON object per line to
``<path>/predictions-<UTC date>-<writer>.jsonl``; ``parquet`` buffers rows and writes
``<path>/predictions-<UTC date>-<writer>-<n>.parquet`` every ``FLUSH_ROWS`` rows and at shutdown;
``off`` writes nothing. ``<writer>`` is the process id and a random token drawn when the log is
opened: each worker process (``serving.workers``) writes its own files, so writers never
interleave, and a later process given the same pid (a restarted container) never appends to or
overwrites an earlier one's files. The environment
variable ``LIFECYCLE_PREDICTION_LOG`` overrides the folder (``lifecycle serve`` sets it to the
folder named in params.yaml, resolved from where it runs). ``read_predictions`` reads either.

Writing is off the request path: ``write`` puts the request's rows and scores on a queue and
returns; one thread per process turns them into records and writes them. ``close`` (called at
shutdown) waits until everything queued is written, so nothing is lost when the server stops.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

if TYPE_CHECKING:
    import pandas as pd

ENV_PATH = "LIFECYCLE_PREDICTION_LOG"
FLUSH_ROWS = 1000
logger = logging.getLogger(__name__)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Entry:
    """One request's worth of log records: its rows as received and their scores."""

    timestamp: str
    request_id: str
    endpoint: str
    rows: Sequence[dict[str, Any]]
    scores: Sequence[tuple[Any, float]]  # (prediction, probability) per row

    def records(self, model: dict[str, str]) -> Iterator[dict[str, Any]]:
        common = {"timestamp": self.timestamp, "request_id": self.request_id,
                  "endpoint": self.endpoint}  # fmt: skip
        for index, (row, (label, probability)) in enumerate(
            zip(self.rows, self.scores, strict=True)
        ):
            yield {**common, "index": index, **model, **row, "prediction": label,
                   "probability": probability}  # fmt: skip

    def lines(self, model: dict[str, str]) -> bytes:
        """``records`` as JSON lines, the shared fields encoded once (twice as fast)."""
        common = {"timestamp": self.timestamp, "request_id": self.request_id,
                  "endpoint": self.endpoint}  # fmt: skip
        head = to_json(common)[:-1] + b',"index":'
        shared = b"," + to_json(model)[1:-1] + b"," if model else b","
        return b"".join(
            [
                b'%s%d%s%s,"prediction":%s,"probability":%s}\n'
                % (head, index, shared, to_json(row)[1:-1], to_json(label), to_json(probability))
                for index, (row, (label, probability)) in enumerate(
                    zip(self.rows, self.scores, strict=True)
                )
            ]
        )


class PredictionLog:
    """Writes entries to the configured sink from a thread; ``close`` writes what is queued."""

    def __init__(self, sink: str, path: str | Path, model: dict[str, str] | None = None) -> None:
        self.sink = sink
        self.folder = Path(os.environ.get(ENV_PATH) or path).resolve()
        self.model = model or {}
        self._rows: list[dict[str, Any]] = []
        self._parts = 0
        self._writer = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._queue: queue.SimpleQueue[Entry | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def write(self, entry: Entry) -> None:
        """Queue one request's records; they are written shortly after, in order."""
        if self.sink == "off":
            return
        if self._thread is None:
            self._start()
        self._queue.put(entry)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="prediction-log")
                self._thread.start()

    def _run(self) -> None:
        done = False
        while not done:
            entries = [self._queue.get()]
            while not self._queue.empty():  # write whatever has piled up in one go
                entries.append(self._queue.get())
            done = None in entries
            try:
                self._write([e for e in entries if e is not None])
            except OSError as exc:
                logger.error("prediction log: cannot write to %s: %s", self.folder, exc)

    def _write(self, entries: list[Entry]) -> None:
        if self.sink == "jsonl" and entries:
            lines = b"".join(entry.lines(self.model) for entry in entries)
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._file("jsonl").open("ab") as handle:
                handle.write(lines)
        elif self.sink == "parquet":
            self._rows.extend(r for entry in entries for r in entry.records(self.model))
            if len(self._rows) >= FLUSH_ROWS:
                self._flush_parquet()

    def _flush_parquet(self) -> None:
        if not self._rows:
            return
        import pandas as pd

        self.folder.mkdir(parents=True, exist_ok=True)
        self._parts += 1
        target = self._file(f"{self._parts}.parquet")
        partial = target.with_suffix(".parquet.partial")
        pd.DataFrame(self._rows).to_parquet(partial, index=False)
        partial.replace(target)
        self._rows = []

    def close(self) -> None:
        """Write everything queued (and buffered), then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        try:
            self._flush_parquet()
        except OSError as exc:
            logger.error("prediction log: cannot write to %s: %s", self.folder, exc)

    def _file(self, suffix: str) -> Path:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        separator = "." if suffix == "jsonl" else "-"
        return self.folder / f"predictions-{day}-{self._writer}{separator}{suffix}"


def read_predictions(folder: str | Path) -> pd.DataFrame:
    """Every logged record under ``folder`` (both sinks), oldest first."""
    import pandas as pd

    folder = Path(folder)
    frames = [pd.read_json(p, lines=True, dtype=False) for p in sorted(folder.glob("*.jsonl"))]
    frames += [pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    merged = pd.concat(frames, ignore_index=True)
    return merged.sort_values("timestamp", kind="stable", ignore_index=True)
