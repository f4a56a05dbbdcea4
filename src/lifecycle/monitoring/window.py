"""The current window: what the service scored, read from its prediction logs (or any batch).

The source is a folder or a file, local or any fsspec URL (``s3://bucket/predictions``,
``gs://...``; the matching fsspec package, e.g. s3fs, must be installed). A folder is read with
everything under it: ``*.jsonl`` (the service's ``jsonl`` sink), ``*.parquet`` (its ``parquet``
sink) and ``*.csv`` (a batch, e.g. from ``lifecycle generate``). Records follow the prediction log
format (``lifecycle.serving.predlog``); only the feature columns are required.

Bad input is counted, not fatal: a line that is not a JSON object (torn by a crash, garbled) is
skipped and counted, a file that cannot be read is skipped and named, a value that should be a
number and is not becomes missing and is counted per column.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from lifecycle.errors import DataError
from lifecycle.settings import Settings

SUFFIXES = (".jsonl", ".parquet", ".csv")


@dataclass(frozen=True)
class Window:
    """The current rows and what reading them met on the way."""

    frame: pd.DataFrame
    source: str
    files: int = 0
    corrupt_lines: int = 0
    unreadable_files: tuple[str, ...] = ()
    invalid_values: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": len(self.frame),
            "files": self.files,
            "corrupt_lines": self.corrupt_lines,
            "unreadable_files": list(self.unreadable_files),
            "invalid_values": self.invalid_values,
        }


def read_window(
    source: str, settings: Settings, *, must_exist: bool = True, days: float | None = None
) -> Window:
    """Every record under ``source``; ``days`` keeps only the last days (by ``timestamp``)."""
    fs, path = _filesystem(source)
    if not fs.exists(path):
        if must_exist:
            raise DataError(
                f"{source} not found: give a folder of prediction logs or a file "
                f"({', '.join(SUFFIXES)}). Without --current the drift check reads "
                "serving.prediction_log.path: point it where the service writes its log, "
                "readable from here (on a hosted runner a URL, e.g. s3://bucket/predictions)"
            )
        return Window(pd.DataFrame(), source, notes=(f"No prediction log at {source} yet.",))
    files = _files(fs, path) if fs.isdir(path) else [path]
    frames, corrupt, unreadable = [], 0, []
    for name in files:
        try:
            frame, bad = _read_file(fs, name)
        except Exception:  # a corrupt parquet or csv file raises many types; skip and name it
            unreadable.append(name)
            continue
        frames.append(frame)
        corrupt += bad
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    frame, notes = _recent(frame, days)
    frame, invalid = _coerce(frame, settings)
    return Window(frame, source, len(files), corrupt, tuple(unreadable), invalid, notes)


def _filesystem(source: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(source)
        return fs, str(path)
    except (ImportError, ValueError) as exc:
        raise DataError(
            f"{source}: cannot open ({exc}); for a cloud URL install its fsspec package "
            "(s3fs, gcsfs or adlfs)"
        ) from None


def _files(fs: Any, folder: str) -> list[str]:
    found = fs.find(folder)
    return sorted(name for name in found if name.lower().endswith(SUFFIXES))


def _read_file(fs: Any, name: str) -> tuple[pd.DataFrame, int]:
    """(records, corrupt lines) of one file."""
    with fs.open(name, "rb") as handle:
        raw = handle.read()
    lowered = name.lower()
    if lowered.endswith(".parquet"):
        return pd.read_parquet(io.BytesIO(raw)), 0
    if lowered.endswith(".csv"):
        return pd.read_csv(io.BytesIO(raw)), 0
    return read_jsonl(raw)


def read_jsonl(raw: bytes) -> tuple[pd.DataFrame, int]:
    """JSON lines -> (records, lines skipped as corrupt). Fast path: pyarrow, all at once."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    try:
        return pa_json.read_json(io.BytesIO(raw)).to_pandas(), 0
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # a corrupt line somewhere (or mixed types): go line by line
    records, corrupt = [], 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            corrupt += 1
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            corrupt += 1
    return pd.DataFrame.from_records(records), corrupt


def _recent(frame: pd.DataFrame, days: float | None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if days is None or frame.empty:
        return frame, ()
    if "timestamp" not in frame.columns:
        return frame, ("no timestamp column: --days ignored, every record is used",)
    stamps = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="ISO8601")
    since = datetime.now(UTC) - timedelta(days=days)
    kept = frame.loc[stamps >= since].reset_index(drop=True)
    return kept, (f"records since {since.isoformat(timespec='seconds')} (last {days:g} days)",)


def _coerce(frame: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, dict[str, int]]:
    """Numeric features as numbers; values that are not become missing and are counted."""
    invalid = {}
    for column in settings.data.features.numeric:
        if column not in frame.columns or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = int((numbers.isna() & frame[column].notna()).sum())
        if bad:
            invalid[column] = bad
        frame[column] = numbers
    return frame, invalid
