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
``<path>/predictions-<UTC date>-<pid>.jsonl`` (one file per worker process and day, so writers
never interleave); ``parquet`` buffers rows and writes ``<path>/predictions-<UTC date>-<pid>-
<n>.parquet`` every ``FLUSH_ROWS`` rows and at shutdown; ``off`` writes nothing. The environment
variable ``LIFECYCLE_PREDICTION_LOG`` overrides the folder (``lifecycle serve`` sets it to the
folder named in params.yaml, resolved from where it runs). ``read_predictions`` reads either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

ENV_PATH = "LIFECYCLE_PREDICTION_LOG"
FLUSH_ROWS = 1000


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class PredictionLog:
    """Writes records to the configured sink; ``close`` flushes what is buffered."""

    def __init__(self, sink: str, path: str | Path) -> None:
        self.sink = sink
        self.folder = Path(os.environ.get(ENV_PATH) or path).resolve()
        self._rows: list[dict[str, Any]] = []
        self._parts = 0

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        if self.sink == "jsonl":
            self._append_jsonl(records)
        elif self.sink == "parquet":
            self._rows.extend(records)
            if len(self._rows) >= FLUSH_ROWS:
                self.flush()

    def _append_jsonl(self, records: Iterable[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._file("jsonl").open("a", encoding="utf-8") as handle:
            handle.write(lines)

    def flush(self) -> None:
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
        self.flush()

    def _file(self, suffix: str) -> Path:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        separator = "." if suffix == "jsonl" else "-"
        return self.folder / f"predictions-{day}-{os.getpid()}{separator}{suffix}"


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
