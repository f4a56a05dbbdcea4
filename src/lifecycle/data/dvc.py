"""The data's version: DVC's pointer (data.dvc), its md5, and pulling it from the remote."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

from lifecycle.errors import DataError
from lifecycle.settings import Settings

PULL_HINT = "run `make data` (dvc pull) first"
REBUILD = (
    "or create the data with `lifecycle generate --rows 30000 --seed 42` and track it with "
    "`dvc add data && dvc push`"
)


def pull_hint(path: Path, settings: Settings) -> str:
    if path == settings.data.path or _dvc_entry(path) is not None:
        return PULL_HINT
    return "check the path"


def data_version(settings: Settings, path: Path | str | None = None) -> str:
    """The DVC md5 of a DVC-tracked file, ``sha256:`` of the bytes of an untracked one.

    A tracked file whose bytes are not the ones its .dvc file records is a DataError, never
    silently versioned another way: the run would claim data it did not use.
    """
    path = Path(path) if path is not None else settings.data.path
    if not path.is_file():
        raise DataError(f"{path} not found: {pull_hint(path, settings)}")
    entry = _dvc_entry(path)
    if entry is None:
        return "sha256:" + _digest(path, "sha256")
    pointer, output, md5 = entry
    if not _is_tracked_version(path, pointer, output, md5):
        raise DataError(
            f"{path} is not the version {pointer.name} records ({md5}): restore it with "
            f"`lifecycle pull --force`, or record the change with `dvc add {output.name}` "
            "(then `dvc push`)"
        )
    return md5


def recorded_version(settings: Settings) -> str | None:
    """The data version the .dvc file records for ``data.path`` (no data needed), or the
    checked ``data_version`` of an untracked file that is here; None if neither."""
    entry = _dvc_entry(settings.data.path)
    if entry is not None:
        return entry[2]
    return data_version(settings) if settings.data.path.is_file() else None


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


def _outs(pointer: Path) -> list[dict[str, Any]]:
    try:
        content = yaml.safe_load(pointer.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{pointer} cannot be read ({exc}): restore it from git") from None
    outs = content.get("outs", []) if isinstance(content, dict) else []
    return [out for out in outs if isinstance(out, dict)]


def _is_tracked_version(path: Path, pointer: Path, output: Path, md5: str) -> bool:
    """Whether the file's bytes are the ones the .dvc file records."""
    if not md5.endswith(".dir"):
        return path.absolute() == output and _digest(path, "md5") == md5
    entries = _manifest(pointer, md5)
    if entries is None:  # no manifest in the cache: the whole folder must hash to md5
        return _dir_md5(output) == md5
    relpath = path.absolute().relative_to(output).as_posix()
    return {e.get("relpath"): e.get("md5") for e in entries}.get(relpath) == _digest(path, "md5")


def _manifest(pointer: Path, md5: str) -> list[dict[str, Any]] | None:
    """The folder's file list (DVC's ``.dir`` object) from the cache, if there and intact."""
    manifest = _cache_root(pointer) / _object(md5)
    if not manifest.is_file() or _digest(manifest, "md5") != md5.removesuffix(".dir"):
        return None
    return json.loads(manifest.read_text("utf-8"))


def _dir_md5(output: Path) -> str:
    """DVC's hash of a folder: md5 of its sorted file list (relpath, md5) as JSON, + ``.dir``."""
    files = sorted(p for p in output.rglob("*") if p.is_file()) if output.is_dir() else []
    listing = [{"md5": _digest(f, "md5"), "relpath": f.relative_to(output).as_posix()}
               for f in files]  # fmt: skip
    text = json.dumps(listing, sort_keys=True).encode("utf-8")
    return hashlib.md5(text, usedforsecurity=False).hexdigest() + ".dir"


def _object(md5: str) -> str:
    """Where DVC keeps an object, in the cache and in the remote."""
    return f"files/md5/{md5[:2]}/{md5[2:]}"


def verify(pointer: Path) -> None:
    """Check the workspace against the .dvc file, file by file; on a mismatch remove the bad
    files (and their cached objects, so the next pull fetches them again) and raise DataError."""
    for out in _outs(pointer):
        output, md5 = (pointer.parent / str(out.get("path", ""))).absolute(), str(out.get("md5"))
        bad = _mismatches(pointer, output, md5) if out.get("md5") else []
        if not bad:
            continue
        for file, expected, _ in bad:
            file.unlink(missing_ok=True)
            (_cache_root(pointer) / _object(expected)).unlink(missing_ok=True)
        file, expected, actual = bad[0]
        shown = file.relative_to(pointer.parent) if file.is_relative_to(pointer.parent) else file
        raise DataError(
            f"{shown} as fetched does not match {pointer.name}: md5 "
            f"{actual}, expected {expected}; the remote's object {_object(expected)} is "
            f"corrupted ({len(bad)} file(s)). The fetched copy was removed, so nothing uses it. "
            f"Push an intact copy from a machine that has the data (`dvc push`), {REBUILD}"
        )


def _mismatches(pointer: Path, output: Path, md5: str) -> list[tuple[Path, str, str]]:
    """(file, expected md5, actual md5 or "missing") for each tracked file that differs."""
    if not md5.endswith(".dir"):
        expected = {output: md5}
    else:
        cached = _cache_root(pointer) / _object(md5)
        entries = _manifest(pointer, md5)
        if entries is None:
            actual = _digest(cached, "md5") + ".dir" if cached.is_file() else "missing"
            return [(cached, md5, actual)]
        expected = {output / e["relpath"]: e["md5"] for e in entries}
    found = {f: _digest(f, "md5") if f.is_file() else "missing" for f in expected}
    return [(f, expected[f], found[f]) for f in expected if found[f] != expected[f]]


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


def pull(pointer: Path, remote: str | None, force: bool) -> dict[str, Any]:
    """``dvc pull <pointer>``, then ``verify``; DVC's errors become DataErrors saying what to do."""
    from dvc.exceptions import CheckoutError, DvcException
    from dvc.repo import Repo

    route_dvc_logs()
    try:
        with Repo(str(_repo_root(pointer))) as repo:
            print(
                f"pulling {pointer.name} from DVC remote {_describe(repo, remote)} ...", flush=True
            )
            result = repo.pull(targets=[str(pointer)], remote=remote, force=force)
    except CheckoutError:
        raise DataError(
            f"dvc pull could not restore {pointer.name}: the remote lacks this version of the "
            f"data. Push it from a machine that has it (`dvc push`), {REBUILD}"
        ) from None
    except DvcException as exc:
        if "without confirmation" in str(exc):  # DVC refuses to overwrite unsaved changes
            raise DataError(
                f"the data tracked by {pointer.name} has local changes that pulling would "
                "overwrite: keep them with `dvc add data` (then `dvc push`), or discard them "
                "with `lifecycle pull --force`"
            ) from None
        raise DataError(f"dvc pull failed for {pointer.name}: {_first_line(exc)}") from None
    verify(pointer)  # DVC does not check what it downloads: a corrupted object passes
    return result


def track(folder: Path) -> tuple[Path, bool]:
    """``dvc add <folder>`` then ``dvc push`` of its pointer (``<folder>.dvc``) to the default
    remote: the pointer and whether it changed. DVC's errors become DataErrors."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    route_dvc_logs()
    pointer = folder.with_name(folder.name + ".dvc")
    before = pointer.read_text(encoding="utf-8") if pointer.is_file() else None
    try:
        with Repo(str(_repo_root(pointer))) as repo:
            repo.scm_context.quiet = True  # DVC's "git add" advice: the caller gives its own
            repo.add([str(folder)])
            repo.push(targets=[str(pointer)])
    except DvcException as exc:
        raise DataError(
            f"dvc could not add and push {folder}: {_first_line(exc)}; check the DVC remote "
            "in .dvc/config (`.venv/bin/dvc remote list`)"
        ) from None
    return pointer, pointer.read_text(encoding="utf-8") != before


def route_dvc_logs() -> None:
    """Point DVC's log handlers at the current stdout/stderr.

    ``import dvc`` binds its handlers to the streams of that moment; when the CLI runs in
    process (the pipeline, tests) those streams may since have been replaced or closed.
    """
    for name in ("dvc", "dvc_objects", "dvc_data"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                stream = sys.stderr if handler.level >= logging.WARNING else sys.stdout
                handler.stream = stream  # not setStream: it flushes the old, maybe closed, one


def _repo_root(pointer: Path) -> Path:
    for folder in pointer.absolute().parents:
        if (folder / ".dvc").is_dir():
            return folder
    raise DataError(f"{pointer} is not inside a DVC repository (no .dvc/ folder): run `dvc init`")


def _describe(repo: Any, remote: str | None) -> str:
    name = remote or repo.config.get("core", {}).get("remote")
    if not name:
        return "(none configured: `dvc remote add -d <name> <url>`)"
    url = repo.config.get("remote", {}).get(name, {}).get("url")
    return f"'{name}' ({url})" if url else f"'{name}'"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
