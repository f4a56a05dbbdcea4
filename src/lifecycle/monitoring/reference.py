"""The reference: the training snapshot, found by its data version (the md5 in data.dvc).

The version asked for is usually the one the served model was trained on (its ``data.version``
tag). When it is the data in the workspace, that file is read. Otherwise the git history of the
DVC pointer (data.dvc) tells which commit recorded that version, and DVC fetches the file as it
was at that commit, from the cache or the remote. A version found nowhere is a DataError naming it.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from lifecycle.data.dataset import load_dataset, schema_problems
from lifecycle.data.dvc import data_version, dvc_pointer
from lifecycle.errors import DataError
from lifecycle.settings import Settings


@dataclass(frozen=True)
class Reference:
    frame: pd.DataFrame
    version: str
    source: str


def load_reference(settings: Settings, version: str | None = None) -> Reference:
    """The training data at ``version`` (default: the data in the workspace)."""
    path = settings.data.path
    current = _current_version(settings)
    if version is None or (current is not None and same_version(version, current)):
        if current is None:
            data_version(settings)  # raises the DataError that says how to fetch the data
        return Reference(load_dataset(settings), str(current), str(path))
    return _from_history(settings, version, current)


def same_version(a: str, b: str) -> bool:
    """'24ab…', '24ab….dir' and 'md5:24ab…' name the same DVC version."""

    def bare(text: str) -> str:
        return text.strip().removeprefix("md5:").removesuffix(".dir").lower()

    return bare(a) == bare(b)


def _current_version(settings: Settings) -> str | None:
    try:
        return data_version(settings)
    except DataError:
        return None  # not pulled: only a version from the history can be read


def _from_history(settings: Settings, version: str, current: str | None) -> Reference:
    path = settings.data.path
    now = f"the workspace holds {current}" if current else f"{path} is not pulled"
    pointer = dvc_pointer(path)
    if pointer is None:
        raise DataError(
            f"reference data version {version} not found: {path} is not tracked by DVC, so only "
            f"its current version can be read ({now}). Omit --reference-version or track the "
            "data with DVC."
        )
    commit = commit_recording(pointer, version)
    if commit is None:
        raise DataError(
            f"reference data version {version} not found: no commit in the git history of "
            f"{pointer.name} records it ({now}). `git log -p {pointer.name}` lists the versions; "
            "or omit --reference-version to use the data in the workspace."
        )
    frame = _read_at(settings, pointer, commit, version)
    return Reference(frame, version, f"{path}@{commit[:12]}")


def commit_recording(pointer: Path, version: str) -> str | None:
    """The newest commit whose copy of the .dvc pointer records ``version``, if any."""
    root = _git(pointer.parent, "rev-parse", "--show-toplevel")
    if root is None:
        return None
    relative = pointer.resolve().relative_to(Path(root).resolve()).as_posix()
    commits = _git(Path(root), "log", "--format=%H", "--", relative) or ""
    for commit in commits.split():
        text = _git(Path(root), "show", f"{commit}:{relative}")
        outs = (yaml.safe_load(text or "") or {}).get("outs", [])
        if any(same_version(str(out.get("md5", "")), version) for out in outs):
            return commit
    return None


def _read_at(settings: Settings, pointer: Path, commit: str, version: str) -> pd.DataFrame:
    """The data file as it was at ``commit``, through DVC (cache first, then the remote)."""
    import dvc.api

    from lifecycle.data.dvc import route_dvc_logs

    route_dvc_logs()
    root = Path(_git(pointer.parent, "rev-parse", "--show-toplevel") or pointer.parent)
    relative = settings.data.path.resolve().relative_to(root.resolve()).as_posix()
    try:
        with dvc.api.open(relative, repo=str(root), rev=commit, mode="rb") as handle:
            raw = handle.read()
    except Exception as exc:  # DVC raises many types (missing cache, remote unreachable)
        raise DataError(
            f"reference data version {version} (recorded by commit {commit[:12]}) could not be "
            f"fetched from the DVC cache or remote ({type(exc).__name__}: {exc}). Check the "
            f"remote, or run `dvc fetch --rev {commit[:12]}`."
        ) from None
    reader = pd.read_csv if relative.endswith(".csv") else pd.read_parquet
    frame = reader(io.BytesIO(raw))
    problems = schema_problems(frame, settings)
    if problems:
        raise DataError(
            f"reference data version {version} does not match the columns in "
            f"{settings.source}: {'; '.join(problems)}"
        )
    return frame


def _git(where: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
