"""The model artifact's fingerprint: one sha256 over every file of a model folder.

The digest covers each file's path (relative, with forward slashes) and contents, in sorted
order, so it is the same on every machine and changes when any byte, name or file changes.
``build`` records it on the model version (tag ``bento.model_sha256``) and in the Bento; the
service recomputes it at start and refuses to serve when they differ.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def tree_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(file_sha256(path).encode("ascii") + b"\n")
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ArtifactMismatch(Exception):
    """The model files on disk are not the ones the Bento was built with."""


def verify(folder: Path, expected: str) -> None:
    actual = tree_sha256(folder) if folder.is_dir() else "missing"
    if actual != expected:
        raise ArtifactMismatch(
            f"model artifact at {folder} does not match the Bento: sha256 {actual} but the "
            f"build recorded {expected}. The files changed after `lifecycle build`; refusing "
            "to serve them. Rebuild the Bento from the registered model version."
        )
