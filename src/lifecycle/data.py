"""The dataset named in params.yaml: read it, check it against the settings, split it, version it.

Every problem is a DataError naming the file or the column and saying how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import yaml

from lifecycle.errors import DataError, UsageError
from lifecycle.settings import Settings

READERS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
PULL_HINT = "run `make data` (dvc pull) first"


def load_dataset(
    settings: Settings, path: Path | str | None = None, *, require_target: bool = True
) -> pd.DataFrame:
    """Read the data (``settings.data.path`` unless ``path``) and check it matches the settings.

    ``require_target=False`` accepts unlabelled batches (e.g. production traffic).
    """
    path = Path(path) if path is not None else settings.data.path
    frame = read_table(path, hint=_pull_hint(path, settings))
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


def _pull_hint(path: Path, settings: Settings) -> str:
    if path == settings.data.path or _dvc_entry(path) is not None:
        return PULL_HINT
    return "check the path"


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
            problems.append(_dtype_problem(frame[column], "a numeric feature: expected numbers"))
    for column in data.features.categorical:
        if column in frame.columns and not _is_text(frame[column]):
            problems.append(_dtype_problem(frame[column], "a categorical feature: expected text"))
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


def _dtype_problem(column: pd.Series, expected: str) -> str:
    sample = column.dropna().head(3).tolist()
    return f"column '{column.name}' has dtype {column.dtype} but is {expected} (e.g. {sample!r})"


def _target_problems(target: pd.Series, positive_label: int | str) -> list[str]:
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
    if positive_label not in values:
        return [
            f"target '{name}' (dtype {target.dtype}) never equals data.positive_label "
            f"{positive_label!r}: values found {values!r}"
        ]
    return []


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


def data_version(settings: Settings, path: Path | str | None = None) -> str:
    """The DVC md5 when the file is the DVC-tracked version, else ``sha256:`` of its bytes."""
    path = Path(path) if path is not None else settings.data.path
    if not path.is_file():
        raise DataError(f"{path} not found: {_pull_hint(path, settings)}")
    entry = _dvc_entry(path)
    if entry is not None and _is_tracked_version(path, *entry):
        return entry[2]
    return "sha256:" + _digest(path, "sha256")


def dvc_pointer(path: Path | str) -> Path | None:
    """The .dvc file (e.g. data.dvc) tracking ``path`` or a folder holding it, if any."""
    entry = _dvc_entry(Path(path))
    return entry[0] if entry is not None else None


def _dvc_entry(path: Path) -> tuple[Path, Path, str] | None:
    """(the .dvc file, the output it tracks, its md5) for the output holding ``path``."""
    path = path.absolute()
    for candidate in (path, *path.parents):
        if not candidate.name:
            break
        pointer = candidate.with_name(candidate.name + ".dvc")
        if pointer.is_file():
            for out in _outs(pointer):
                if (pointer.parent / str(out.get("path", ""))).absolute() == candidate:
                    return (pointer, candidate, str(out["md5"])) if out.get("md5") else None
    return None


def _outs(pointer: Path) -> list[dict]:
    try:
        content = yaml.safe_load(pointer.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{pointer} cannot be read ({exc}): restore it from git") from None
    outs = content.get("outs", []) if isinstance(content, dict) else []
    return [out for out in outs if isinstance(out, dict)]


def _is_tracked_version(path: Path, pointer: Path, output: Path, md5: str) -> bool:
    """Whether the file's bytes are the ones data.dvc records (unknown -> trust data.dvc)."""
    if not md5.endswith(".dir"):
        return path.absolute() == output and _digest(path, "md5") == md5
    manifest = _cache_root(pointer) / "files" / "md5" / md5[:2] / md5[2:]
    if not manifest.is_file():
        return True
    relpath = path.absolute().relative_to(output).as_posix()
    entries = {e.get("relpath"): e.get("md5") for e in json.loads(manifest.read_text("utf-8"))}
    return entries.get(relpath) == _digest(path, "md5")


def _cache_root(pointer: Path) -> Path:
    for folder in pointer.absolute().parents:
        if (folder / ".dvc").is_dir():
            return folder / ".dvc" / "cache"
    return pointer.parent / ".dvc" / "cache"


def _digest(path: Path, algorithm: str) -> str:
    hasher = hashlib.new(algorithm, usedforsecurity=False)  # md5: DVC's content address
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()
