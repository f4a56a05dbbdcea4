"""Batch scoring's files: the input read in chunks, the outputs written under a temporary name.

Any path or fsspec URL. ``Input`` is a parquet or CSV file or a folder of them, in name order;
parquet is read in record batches (``ParquetFile.iter_batches``: at most one row group in
memory), category columns as dictionaries (pandas categoricals), CSV in chunks (pandas
``chunksize``), category columns and the id column as text.
``Output`` is a parquet file written chunk by chunk (one row group each) under ``<name>.partial``
and renamed by ``commit``; leaving its block without a commit removes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pandas as pd

from lifecycle.errors import DataError
from lifecycle.serving.spec import FeatureSpec

SUFFIXES = (".parquet", ".csv")
PARTIAL_SUFFIX = ".partial"


def _filesystem(url: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise DataError(
            f"{url}: cannot open ({exc}); for a cloud URL install its fsspec package "
            "(s3fs, gcsfs or adlfs)"
        ) from None
    return fs, str(path)


class Input:
    """A parquet or CSV file, or a folder of them: its files in name order, read in chunks."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.fs, path = _filesystem(source)
        if not self.fs.exists(path):
            raise DataError(f"{source} not found: check the path or URL")
        found = sorted(self.fs.find(path)) if self.fs.isdir(path) else [path]
        self.files = [name for name in found if name.lower().endswith(SUFFIXES)]
        if not self.files:
            raise DataError(f"{source}: no .parquet or .csv file to score")

    def total_rows(self) -> int | None:
        """The rows of every file, from the parquet footers; None when a CSV file is among them."""
        if any(name.lower().endswith(".csv") for name in self.files):
            return None
        total = 0
        for name in self.files:
            with self._parquet(name) as table:
                total += table.metadata.num_rows
        return total

    def has_column(self, column: str) -> bool:
        name = self.files[0]
        if name.lower().endswith(".csv"):
            with _reading(name), self.fs.open(name, "rb") as handle:
                return column in pd.read_csv(handle, nrows=0).columns
        with self._parquet(name) as table:
            return column in table.schema_arrow.names

    def chunks(
        self, features: tuple[FeatureSpec, ...], ident: str | None, rows: int
    ) -> Iterator[pd.DataFrame]:
        wanted = list(dict.fromkeys([*(f.name for f in features), *([ident] if ident else [])]))
        categories = [f.name for f in features if f.kind == "category"]
        text = categories + ([ident] if ident else [])
        for name in self.files:
            with _reading(name):
                if name.lower().endswith(".csv"):
                    yield from self._csv(name, wanted, text, rows)
                else:
                    yield from self._parquet_chunks(name, wanted, categories, rows)

    @contextlib.contextmanager
    def _parquet(self, name: str, dictionaries: list[str] | None = None) -> Iterator[Any]:
        import pyarrow.parquet as pq

        with (
            _reading(name),
            self.fs.open(name, "rb") as handle,
            pq.ParquetFile(handle, read_dictionary=dictionaries) as table,
        ):
            yield table

    def _parquet_chunks(
        self, name: str, wanted: list[str], categories: list[str], rows: int
    ) -> Iterator[pd.DataFrame]:
        with self._parquet(name, categories) as table:  # read as pandas categoricals
            _require(name, wanted, table.schema_arrow.names)
            for batch in table.iter_batches(batch_size=rows, columns=wanted):
                yield batch.to_pandas()

    def _csv(
        self, name: str, wanted: list[str], text: list[str], rows: int
    ) -> Iterator[pd.DataFrame]:
        with self.fs.open(name, "rb") as handle:
            _require(name, wanted, list(pd.read_csv(handle, nrows=0).columns))
        with self.fs.open(name, "rb") as handle:
            dtypes = dict.fromkeys(text, "str")
            yield from pd.read_csv(handle, usecols=wanted, dtype=dtypes, chunksize=rows)


@contextlib.contextmanager
def _reading(name: str) -> Iterator[None]:
    """pyarrow's and pandas' errors for a file that cannot be read (all derive from these two)
    as a DataError naming the file."""
    try:
        yield
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{name} cannot be read ({reason}): fix or remove it") from None


def _require(name: str, wanted: list[str], present: list[str]) -> None:
    missing = [column for column in wanted if column not in present]
    if missing:
        raise DataError(
            f"{name} lacks the column(s) {', '.join(missing)}: the model needs every feature "
            "it was trained on (data.features), and --id-column must name a column of the input"
        )


class Output:
    """A parquet file written chunk by chunk under a temporary name; renamed by ``commit``."""

    def __init__(self, target: str) -> None:
        self.fs, self.path = _filesystem(target)
        self.partial = self.path + PARTIAL_SUFFIX
        self.writer: Any = None
        self.handle: Any = None

    def __enter__(self) -> Output:
        parent = self.path.rpartition("/")[0]  # fsspec paths use "/" on every system
        if parent:
            self.fs.makedirs(parent, exist_ok=True)
        self.handle = self.fs.open(self.partial, "wb")
        return self

    def write(self, columns: dict[str, Any], **constants: str) -> None:
        import pyarrow as pa

        table = pa.table(columns)
        for name, value in constants.items():
            table = table.append_column(name, pa.repeat(pa.scalar(value, pa.string()), len(table)))
        if self.writer is None:
            import pyarrow.parquet as pq

            self.writer = pq.ParquetWriter(self.handle, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def commit(self) -> None:
        self._close()
        self.fs.mv(self.partial, self.path)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def __exit__(self, kind: Any, *rest: Any) -> None:
        self._close()
        if kind is not None and self.fs.exists(self.partial):
            self.fs.rm(self.partial)
