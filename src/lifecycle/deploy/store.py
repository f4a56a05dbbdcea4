"""A BentoML store on disk, checked by content: a Bento's models must hash to what was built.

``lifecycle build`` labels each stored model with the sha256 of its files (``sha256``). A model
whose files no longer hash to that label was changed after the build; BentoML would still reuse
it under the same tag (an import keeps a model it already has), so it is found and removed here.
The layout read is BentoML's own: ``bentos/<name>/<version>/bento.yaml`` lists the models of its
services; ``models/<name>/<version>/model.yaml`` holds a model's labels.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from lifecycle.errors import LifecycleError
from lifecycle.serving.artifact import ArtifactMismatch, tree_sha256, verify
from lifecycle.serving.bento import MODEL_FOLDER


class TamperedBento(LifecycleError):
    """A Bento's model files differ from the ones it was built with."""


def bento_dir(home: Path, bento_tag: str) -> Path:
    name, _, version = bento_tag.partition(":")
    return home / "bentos" / name / version


def model_tags(home: Path, bento_tag: str) -> list[str]:
    """The model tags the Bento's services use (none if the Bento is not in this store)."""
    manifest = bento_dir(home, bento_tag) / "bento.yaml"
    if not manifest.is_file():
        return []
    info = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    tags = [m.get("tag") for m in info.get("models") or []]
    for service in info.get("services") or []:
        tags += [m.get("tag") for m in service.get("models") or []]
    return sorted({tag for tag in tags if tag})


def tampered(home: Path, bento_tag: str) -> list[Path]:
    """The folders of the Bento's models whose files do not hash to their build label."""
    bad = []
    for tag in model_tags(home, bento_tag):
        name, _, version = tag.partition(":")
        folder = home / "models" / name / version
        labels = _labels(folder)
        expected = labels.get("sha256")
        if expected and tree_sha256(folder / MODEL_FOLDER) != expected:
            bad.append(folder)
    return bad


def _labels(folder: Path) -> dict[str, str]:
    manifest = folder / "model.yaml"
    if not manifest.is_file():
        return {}
    info = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    return info.get("labels") or {}


def discard(home: Path, bento_tag: str) -> list[Path]:
    """Remove the Bento's tampered models and the Bento itself from the store; what was bad."""
    bad = tampered(home, bento_tag)
    if bad:
        for folder in bad:
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(bento_dir(home, bento_tag), ignore_errors=True)
    return bad


def check(home: Path, bento_tag: str) -> None:
    """TamperedBento (one line: which files, what to do) unless the Bento's models are intact."""
    for folder in tampered(home, bento_tag):
        try:
            verify(folder / MODEL_FOLDER, _labels(folder)["sha256"])
        except ArtifactMismatch as exc:
            raise TamperedBento(f"{exc} (Bento {bento_tag})") from None
