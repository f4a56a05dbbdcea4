"""The Bento archive kept with its model version in the registry's artifact store, and the image.

``lifecycle build`` exports the Bento (a ``.bento`` file) and logs it as an artifact of the model
version's training run (``bento/<name>-<version>.bento``); the version records where
(``bento.archive``, a ``runs:/`` URI) and the file's sha256 (``bento.archive_sha256``). A job on
another runner, a rollback weeks later, a fresh BentoML store: ``ensure_local`` downloads the
archive, refuses it unless it hashes to what the build recorded, and imports it. When the Bento's
image is pushed, ``record_image`` writes its digest reference on the version (``bento.image``),
which deploy commands receive as ``{image}``.

BentoML reads its store from ``BENTOML_HOME``: callers set it first
(``lifecycle.serving.bento.use_local_home``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from lifecycle.errors import RegistryError, UsageError
from lifecycle.serving.artifact import file_sha256
from lifecycle.settings import Settings

TAG_ARCHIVE = "bento.archive"
TAG_ARCHIVE_SHA256 = "bento.archive_sha256"
TAG_IMAGE = "bento.image"
FOLDER = "bento"  # the artifact folder of the training run that holds the archives
DIGEST_REFERENCE = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")


def store(settings: Settings, version: Any, bento_tag: str, archive: Path) -> tuple[str, str]:
    """Log the archive with the version's run and record where and its sha256; (uri, sha256)."""
    from mlflow import MlflowClient

    run_id = version.run_id or (version.tags or {}).get("run_id")
    if not run_id:
        raise RegistryError(
            f"model version {version.version} of '{settings.model.name}' names no run, so its "
            "Bento has nowhere to be stored: register the version from a training run "
            "(`lifecycle register`)"
        )
    name = bento_tag.replace(":", "-") + ".bento"
    sha256 = file_sha256(archive)
    with tempfile.TemporaryDirectory(prefix="lifecycle-archive-") as scratch:
        named = Path(scratch) / name  # the artifact keeps the file's name
        shutil.copyfile(archive, named)
        client = MlflowClient()
        client.log_artifact(run_id, str(named), FOLDER)
    uri = f"runs:/{run_id}/{FOLDER}/{name}"
    client.set_model_version_tag(settings.model.name, str(version.version), TAG_ARCHIVE, uri)
    client.set_model_version_tag(
        settings.model.name, str(version.version), TAG_ARCHIVE_SHA256, sha256
    )
    return uri, sha256


def in_store(bento_tag: str) -> bool:
    """Whether the BentoML store at BENTOML_HOME holds the Bento."""
    import bentoml
    from bentoml.exceptions import BentoMLException

    try:
        bentoml.get(bento_tag)
    except (BentoMLException, ValueError):
        return False
    return True


def ensure_local(version: Any, bento_tag: str, *, required: bool = True) -> bool:
    """Put the version's Bento into the local store from the registry, unless it is there.

    True when it was fetched. Without a stored archive: RegistryError when ``required``, else
    False (the caller goes on without the Bento, e.g. a deploy command given an image).
    """
    if in_store(bento_tag):
        return False
    tags = version.tags or {}
    uri, expected = tags.get(TAG_ARCHIVE), tags.get(TAG_ARCHIVE_SHA256)
    if not uri or not expected:
        if not required:
            return False
        raise RegistryError(
            f"the Bento {bento_tag} of model version {version.version} is not in the BentoML "
            f"store at {os.environ.get('BENTOML_HOME')} and the registry holds no copy of it "
            f"(tag {TAG_ARCHIVE}): run `lifecycle build --version {version.version}`, which "
            "stores the Bento with the version"
        )
    with tempfile.TemporaryDirectory(prefix="lifecycle-bento-") as scratch:
        path = _download(uri, Path(scratch))
        actual = file_sha256(path)
        if actual != expected:
            raise RegistryError(
                f"the Bento archive {uri} of model version {version.version} has sha256 "
                f"{actual}, but `lifecycle build` recorded {expected}: it changed in the artifact "
                "store after the build, so it was not imported and nothing was deployed. Run "
                f"`lifecycle build --version {version.version}` to store a fresh one."
            )
        import_bento(path, bento_tag)
    return True


def _download(uri: str, target: Path) -> Path:
    import mlflow

    from lifecycle.registry import tracking

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target)))
    except Exception as exc:  # MLflow raises several types for a missing artifact
        missing = RegistryError(
            f"cannot download the Bento archive {uri} from the registry ({exc}): run "
            "`lifecycle build` for the version again to store it"
        )
        raise tracking.unless_fault(exc, missing) from None


def import_bento(path: Path, bento_tag: str) -> None:
    """Import an exported Bento into the store at BENTOML_HOME, unless the tag is there already."""
    import bentoml

    if in_store(bento_tag):
        return
    if not path.is_file():
        raise UsageError(f"--bento-file {path}: no such file (download the Bento artifact first)")
    imported = bentoml.import_bento(str(path.resolve()))  # a relative path reads from /
    if str(imported.tag) != bento_tag:
        raise UsageError(f"{path} holds the Bento {imported.tag}, not {bento_tag}")


def record_image(settings: Settings, ref: str, image: str) -> str:
    """Record the pushed image (``name@sha256:<digest>``) of the version's Bento; its number."""
    from mlflow import MlflowClient

    from lifecycle.registry import models, tracking

    if not DIGEST_REFERENCE.match(image):
        raise UsageError(
            f"--record-image {image!r} is not a digest reference (name@sha256:<64 hex digits>); "
            "record what was pushed, e.g. `docker inspect --format "
            "'{{index .RepoDigests 0}}' IMAGE` after `docker push IMAGE`: a tag can be moved, "
            "a digest cannot"
        )
    tracking.configure()
    found = models.resolve(settings, ref)
    if not (found.tags or {}).get("bento.tag"):
        raise RegistryError(
            f"model version {found.version} has no Bento yet: run "
            f"`lifecycle build --version {found.version}` before recording its image"
        )
    MlflowClient().set_model_version_tag(settings.model.name, str(found.version), TAG_IMAGE, image)
    return str(found.version)
