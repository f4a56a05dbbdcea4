"""The dataset named in params.yaml: read it, check it against the settings, split it, version it.

Every problem is a DataError naming the file or the column and saying how to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle.data.dvc import PULL_HINT, pull_hint
from lifecycle.errors import DataError, UsageError
from lifecycle.settings import Settings

READERS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def load_dataset(
    settings: Settings, path: Path | str | None = None, *, require_target: bool = True
) -> pd.DataFrame:
    """Read the data (``settings.data.path`` unless ``path``) and check it matches the settings.

    ``require_target=False`` accepts unlabelled batches (e.g. production traffic).
    """
    path = Path(path) if path is not None else settings.data.path
    frame = read_table(path, hint=pull_hint(path, settings))
    problems = schema_problems(frame, settings, require_target=require_target)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise DataError(f"{path} does not match the columns in {settings.source}:\n{listed}")
    return frame


def read_table(path: Path | str, hint: str = "check the path") -> pd.DataFrame:
    """Read a parquet or csv file; a missing, placeholder or corrupt file is a DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} not found: {hint}")
    if path.is_dir():
        raise DataError(f"{path} is a directory: point data.path at a .parquet or .csv file")
    kind = table_kind(path)
    _refuse_placeholder(path)
    try:
        frame = pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow and the csv parser raise many types for a corrupt file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{path} cannot be read as {kind} ({reason}): regenerate it or fetch it again"
        ) from None
    if frame.empty:
        raise DataError(f"{path} holds no rows")
    return frame


def write_table(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write parquet or csv (by suffix) atomically: a temporary file, then a rename."""
    path = Path(path)
    kind = table_kind(path, error=UsageError)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if kind == "parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def table_kind(path: Path, error: type[Exception] = DataError) -> str:
    """'parquet' or 'csv', from the file's suffix; anything else raises ``error``."""
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise error(f"{path}: unsupported file type '{path.suffix}': use .parquet or .csv")
    return kind


def _refuse_placeholder(path: Path) -> None:
    """A DVC or Git LFS pointer where the data should be means the data was never pulled."""
    with path.open("rb") as handle:
        head = handle.read(256)
    if head.startswith(b"version https://git-lfs"):
        raise DataError(f"{path} is a Git LFS pointer, not the data: run `git lfs pull`")
    if head.lstrip().startswith((b"outs:", b"md5:", b"schema:")):
        raise DataError(f"{path} is a DVC pointer file, not the data: {PULL_HINT}")


def schema_problems(
    frame: pd.DataFrame, settings: Settings, *, require_target: bool = True
) -> list[str]:
    """What keeps the frame from matching the settings: missing, extra, mistyped columns."""
    data = settings.data
    required = [c for c in data.required_columns if require_target or c != data.target]
    missing = [c for c in required if c not in frame.columns]
    extra = [str(c) for c in frame.columns if c not in required and c != data.target]
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if extra:
        problems.append(
            f"extra column(s) not named in {settings.source}: {', '.join(extra)}; list them "
            "in data.features (or data.protected_attributes) or drop them from the data"
        )
    for column in data.features.numeric:
        if column in frame.columns and not _is_numeric(frame[column]):
            problems.append(_dtype_problem(frame[column], "numeric"))
    for column in data.features.categorical:
        if column in frame.columns and not _is_text(frame[column]):
            problems.append(_dtype_problem(frame[column], "categorical"))
    if data.target in frame.columns:
        problems.extend(_target_problems(frame[data.target], data.positive_label))
    return problems


def _is_numeric(column: pd.Series) -> bool:
    if column.isna().all():
        return True
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _is_text(column: pd.Series) -> bool:
    if column.isna().all() or isinstance(column.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_string_dtype(column):
        return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
    return False


def _dtype_problem(column: pd.Series, kind: str) -> str:
    """A feature whose values are not of its kind, and the two ways to fix it."""
    sample = column.dropna().head(3).tolist()
    found = f"column '{column.name}' has dtype {column.dtype} but is a {kind} feature"
    if kind == "numeric":
        return (
            f"{found}: expected numbers (e.g. {sample!r}); convert its values to numbers or "
            "list it under data.features.categorical"
        )
    numbers = _is_numeric(column)
    codes = " (numbers used as codes must be stored as text, e.g. '1')" if numbers else ""
    return (
        f"{found}: expected text (e.g. {sample!r}){codes}; store its values as text or list it "
        "under data.features.numeric"
    )


def _target_problems(target: pd.Series, positive_label: bool | int | str) -> list[str]:
    name = target.name
    missing = int(target.isna().sum())
    if missing:
        return [f"target '{name}' has {missing} missing value(s): every row needs a label"]
    values = sorted(target.unique().tolist(), key=str)
    if len(values) > 2:
        return [
            f"target '{name}' (dtype {target.dtype}) must be binary but has {len(values)} "
            f"distinct values (e.g. {values[:5]!r})"
        ]
    if positive_label not in values or _bool_for_text(positive_label, values):
        return [
            f"target '{name}' (dtype {target.dtype}) never equals data.positive_label "
            f"{positive_label!r}: values found {values!r}{_label_hint(positive_label, values)}"
        ]
    return []


def _bool_for_text(label: bool | int | str, values: list[Any]) -> bool:
    return isinstance(label, bool) and all(isinstance(v, str) for v in values)


def _label_hint(label: bool | int | str, values: list[Any]) -> str:
    """How to write the label so that it matches: quoted (text) or bare (a number)."""
    same = [v for v in values if str(v).lower() == str(label).lower()]
    if not same:
        return "; set data.positive_label to one of them"
    if isinstance(same[0], str):
        return f'; the values are text: write it in quotes, positive_label: "{same[0]}"'
    return f"; the values are numbers: write it without quotes, positive_label: {same[0]}"


def split(frame: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test frames, the same for the same data and settings.data.split."""
    from sklearn.model_selection import train_test_split

    options = settings.data.split
    labels = frame[settings.data.target] if options.stratify else None
    try:
        train, test = train_test_split(
            frame, test_size=options.test_size, random_state=options.seed, stratify=labels
        )
    except ValueError as exc:
        raise DataError(
            f"cannot split the data ({exc}): add rows or set data.split.stratify to false"
        ) from None
    return train.reset_index(drop=True), test.reset_index(drop=True)


def features_and_target(frame: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, pd.Series]:
    """The model's inputs (the features, in settings order) and 0/1 labels (1 = positive)."""
    data = settings.data
    labels = (frame[data.target] == data.positive_label).astype("int64")
    return frame[data.features.all].copy(), labels.rename(data.target)
