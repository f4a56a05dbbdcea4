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

The folder may be a URL (``s3://bucket/predictions``, ``gs://...``, ``az://...``: any fsspec URL
whose package is installed; s3fs comes with the project), so the log outlives the machine that
serves and a scheduled drift check on another machine reads it. Credentials come from the
environment the service runs in (for S3 the ``AWS_*`` variables, an instance role or a web-identity
token; ``AWS_ENDPOINT_URL`` points at an S3-compatible store). Object stores cannot append, so at a
URL both sinks write whole files: ``predictions-<UTC date>-<writer>-<n>.<jsonl|parquet>`` every
``FLUSH_ROWS`` rows, at least every ``FLUSH_SECONDS`` while rows wait, and at shutdown. A write that
fails (store unreachable, credentials refused) is logged and retried at the next flush; rows are
dropped, and counted in the log, only beyond ``MAX_PENDING_ROWS``.

Writing is off the request path: ``write`` puts the request's rows and scores on a queue and
returns; one thread per process turns them into records and writes them. ``close`` (called at
shutdown) waits until everything queued is written, so nothing is lost when the server stops.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from lifecycle.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

ENV_PATH = "LIFECYCLE_PREDICTION_LOG"
FLUSH_ROWS = 1000
FLUSH_SECONDS = 30.0  # at a URL: the longest a scored row waits before it is written
MAX_PENDING_ROWS = 1_000_000  # at a URL: rows kept while the store cannot be written
logger = logging.getLogger(__name__)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def is_url(location: str | Path) -> bool:
    """True for ``scheme://...`` locations other than local files (``file://``)."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def check_location(value: str) -> None:
    """A URL whose fsspec package is not installed: a ConfigError naming the package to add."""
    if not is_url(value):
        return
    from fsspec.registry import get_filesystem_class

    try:
        get_filesystem_class(value.split("://", 1)[0])
    except (ImportError, ValueError) as exc:
        raise ConfigError(
            f"serving.prediction_log.path '{value}': {exc}. Add that package to the project's "
            "dependencies (uv add ...) so the served Bento has it too (s3fs for s3:// comes "
            "with the project; gcsfs for gs://, adlfs for az://), or log to a local folder"
        ) from None


def location(value: str | Path) -> str:
    """Where a log goes: a URL as given, a local folder as an absolute path."""
    return str(value) if is_url(value) else str(Path(value).resolve())


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
        self.folder = location(os.environ.get(ENV_PATH) or path)
        self.remote = is_url(self.folder)
        self.model = model or {}
        self._rows: list[dict[str, Any]] = []  # parquet: records not written yet
        self._lines: list[bytes] = []  # jsonl at a URL: lines not written yet
        self._pending = 0  # rows buffered in either
        self._since = 0.0  # monotonic time the oldest buffered row arrived
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
            try:
                entries = [self._queue.get(timeout=self._wait())]
            except queue.Empty:
                entries = []  # nothing new for a while: write what waits
            while not self._queue.empty():  # write whatever has piled up in one go
                entries.append(self._queue.get())
            done = None in entries
            self._take([e for e in entries if e is not None])
            due = time.monotonic() - self._since >= FLUSH_SECONDS
            if self._pending >= FLUSH_ROWS or (self._pending and due):
                self._flush()

    def _wait(self) -> float | None:
        """Seconds until the buffered rows are due (None: nothing buffered, wait for rows)."""
        if not self._pending:
            return None
        return max(0.0, FLUSH_SECONDS - (time.monotonic() - self._since))

    def _take(self, entries: list[Entry]) -> None:
        if not entries:
            return
        if not self._pending:
            self._since = time.monotonic()
        if self.sink == "jsonl" and not self.remote:
            self._append(b"".join(entry.lines(self.model) for entry in entries))
            return
        if self.sink == "jsonl":
            self._lines.extend(entry.lines(self.model) for entry in entries)
        else:
            self._rows.extend(r for entry in entries for r in entry.records(self.model))
        self._pending += sum(len(entry.rows) for entry in entries)

    def _append(self, lines: bytes) -> None:
        try:
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            with Path(self._name("jsonl")).open("ab") as handle:
                handle.write(lines)
        except OSError as exc:
            logger.error("prediction log: cannot write to %s: %s", self.folder, exc)

    def _flush(self) -> None:
        """Write the buffered rows as one new file; on failure keep them for the next try."""
        if not self._pending:
            return
        if self.sink == "jsonl":
            body, suffix = b"".join(self._lines), "jsonl"
        else:
            import pandas as pd

            buffer = io.BytesIO()
            pd.DataFrame(self._rows).to_parquet(buffer, index=False)
            body, suffix = buffer.getvalue(), "parquet"
        try:
            self._put(f"{self._parts + 1}.{suffix}", body)
        except Exception as exc:  # OSError, or a cloud library's own (auth, network, bucket)
            logger.error("prediction log: cannot write to %s: %s", self.folder, exc)
            if self._pending > MAX_PENDING_ROWS:
                logger.error("prediction log: %d rows dropped (the store stays unwritable)",
                             self._pending)  # fmt: skip
                self._clear()
            return
        self._parts += 1
        self._clear()

    def _put(self, suffix: str, body: bytes) -> None:
        """One whole file: an object at a URL, a rename into place on a local disk."""
        target = self._name(suffix)
        if self.remote:
            from fsspec.core import url_to_fs

            fs, path = url_to_fs(target)
            fs.pipe_file(path, body)
            return
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        partial = Path(target + ".partial")
        partial.write_bytes(body)
        partial.replace(target)

    def _clear(self) -> None:
        self._rows, self._lines, self._pending = [], [], 0

    def close(self) -> None:
        """Write everything queued (and buffered), then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._flush()

    def _name(self, suffix: str) -> str:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        separator = "." if suffix == "jsonl" else "-"
        return f"{self.folder.rstrip('/')}/predictions-{day}-{self._writer}{separator}{suffix}"


def read_predictions(folder: str | Path) -> pd.DataFrame:
    """Every logged record under ``folder`` (a local folder or a URL; both sinks), oldest first."""
    import pandas as pd
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(location(folder))
    names = sorted(fs.glob(f"{path.rstrip('/')}/*.jsonl")) if fs.exists(path) else []
    frames = [pd.read_json(io.BytesIO(fs.cat_file(n)), lines=True, dtype=False) for n in names]
    parquet = sorted(fs.glob(f"{path.rstrip('/')}/*.parquet")) if fs.exists(path) else []
    frames += [pd.read_parquet(io.BytesIO(fs.cat_file(n))) for n in parquet]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    merged = pd.concat(frames, ignore_index=True)
    return merged.sort_values("timestamp", kind="stable", ignore_index=True)
