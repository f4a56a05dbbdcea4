"""Build a Bento from a registered model version, and find what a build recorded.

``build`` downloads the version's MLflow model, fingerprints it (``artifact.tree_sha256``), copies
it into the BentoML model store, derives the request schema and reads the target's labels from
the model's metadata, exports the locked requirements
from ``uv.lock`` and builds the Bento from ``bentofile.yaml`` with a ``ServingSpec`` as its build
arguments. The exported Bento is stored with the version in the registry's artifact store
(``lifecycle.serving.archive``), and only when all of that worked does the version get its
``bento.tag``: a failed build records no Bento.

BentoML keeps models and Bentos under ``BENTOML_HOME``; ``use_local_home`` points it at
``.bentoml/`` in the project (git-ignored) unless it is already set, so a fresh clone never
writes to the user's home folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lifecycle.errors import ConfigError, RegistryError
from lifecycle.serving import archive
from lifecycle.serving.artifact import tree_sha256
from lifecycle.serving.predlog import check_location
from lifecycle.serving.spec import ServingSpec, feature_specs, model_labels
from lifecycle.settings import Settings

BENTOFILE = Path("bentofile.yaml")
LOCAL_HOME = Path(".bentoml")
MODEL_FOLDER = "mlflow"  # must match lifecycle.serving.service.MODEL_FOLDER
TAG_BENTO = "bento.tag"
TAG_SHA256 = "bento.model_sha256"


@dataclass(frozen=True)
class BuildResult:
    bento_tag: str
    model_version: str
    bento_model: str
    sha256: str
    path: str
    archive: str = ""  # where the registry keeps the exported Bento (lifecycle.serving.archive)
    archive_sha256: str = ""


def use_local_home(root: Path | None = None) -> Path:
    """BENTOML_HOME as set, else ``.bentoml/`` under ``root`` (the current directory)."""
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    if not os.environ.get("BENTOML_HOME"):
        os.environ["BENTOML_HOME"] = str(((root or Path.cwd()) / LOCAL_HOME).resolve())
    return Path(os.environ["BENTOML_HOME"])


def build(settings: Settings, ref: str, bentofile: Path = BENTOFILE) -> BuildResult:
    """Build the Bento for model version (or alias) ``ref``; tag the version with the result."""
    from lifecycle.registry import models, tracking

    tracking.configure()
    found = models.resolve(settings, ref)
    version = str(found.version)
    config = _read_bentofile(bentofile)
    root = bentofile.resolve().parent
    with tempfile.TemporaryDirectory(prefix="lifecycle-build-") as scratch:
        model_dir = _download(settings, version, Path(scratch) / "model")
        sha256 = tree_sha256(model_dir)
        _check_recorded_hash(found, sha256)
        features = feature_specs(settings, model_dir)
        bento_model = _store_model(settings, version, model_dir, sha256)
        spec = _spec(settings, version, bento_model, sha256, features, model_labels(model_dir))
        bento = _build_bento(config, root, spec)
        client = _client()  # the hashes first: alone they are still true; the Bento tag: "built"
        client.set_model_version_tag(settings.model.name, version, TAG_SHA256, sha256)
        exported = export(str(bento.tag), Path(scratch) / "bento.bento")
        stored, stored_sha256 = archive.store(settings, found, str(bento.tag), exported)
    client.set_model_version_tag(settings.model.name, version, TAG_BENTO, str(bento.tag))
    return BuildResult(
        str(bento.tag), version, bento_model, sha256, bento.path, stored, stored_sha256
    )


def _client() -> Any:
    from mlflow import MlflowClient

    return MlflowClient()


def _read_bentofile(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: not found; run from the project root (it holds bentofile.yaml)")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(config, dict) or "service" not in config:
        raise ConfigError(f"{path}: expected a mapping with at least 'service'")
    return config


def _download(settings: Settings, version: str, target: Path) -> Path:
    import mlflow

    uri = f"models:/{settings.model.name}/{version}"
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    target.mkdir(parents=True)
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target)))
    except Exception as exc:  # MLflow raises several types for a missing artifact
        raise RegistryError(f"cannot download {uri}: {exc}") from None


def _check_recorded_hash(version: Any, sha256: str) -> None:
    recorded = (version.tags or {}).get(TAG_SHA256)
    if recorded and recorded != sha256:
        raise RegistryError(
            f"model version {version.version}'s artifact changed since it was first built: "
            f"sha256 {sha256}, recorded {recorded}. Register a new version instead of "
            "overwriting the artifact of an existing one."
        )


def _store_model(settings: Settings, version: str, model_dir: Path, sha256: str) -> str:
    """Copy the MLflow model into BentoML's model store (once per content); its tag."""
    import bentoml
    from bentoml.exceptions import NotFound

    tag = f"{bento_name(settings.model.name)}:v{version}-{sha256[:12]}"
    try:
        stored = bentoml.models.get(tag)
    except NotFound:
        stored = None
    if stored is not None and tree_sha256(Path(stored.path) / MODEL_FOLDER) == sha256:
        return tag
    if stored is not None:
        bentoml.models.delete(tag)
    labels = {"model_version": version, "sha256": sha256}
    with bentoml.models.create(
        tag, labels=labels, metadata={"registered_model": settings.model.name}
    ) as model:
        shutil.copytree(model_dir, Path(model.path) / MODEL_FOLDER)
    return tag


def _spec(
    settings: Settings, version: str, bento_model: str, sha256: str, features: Any, labels: Any
) -> ServingSpec:
    serving = settings.serving
    check_location(serving.prediction_log.path)
    return ServingSpec(
        model_name=settings.model.name,
        model_version=version,
        bento_model=bento_model,
        sha256=sha256,
        labels=labels,
        features=features,
        max_batch_size=serving.max_batch_size,
        max_latency_ms=serving.max_latency_ms,
        max_body_bytes=serving.max_body_bytes,
        workers=serving.workers,
        access_log=serving.access_log,
        prediction_log_sink=serving.prediction_log.sink,
        prediction_log_path=serving.prediction_log.path,
    )


def bento_name(name: str) -> str:
    """A BentoML-safe name: lower case letters, digits, '-', '_' and '.'."""
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
    return cleaned or "model"


def find_uv() -> str:
    """The uv executable: on PATH, named by $UV, or beside this interpreter."""
    candidates = [
        shutil.which("uv"),
        os.environ.get("UV"),
        str(Path(sys.executable).with_name("uv")),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigError(
        "building a Bento needs uv (to export uv.lock and for BentoML itself): install it "
        "(`make setup` does) or put it on PATH"
    )


def export_requirements(root: Path) -> list[str]:
    """The project's locked runtime requirements (no dev group), exported from uv.lock."""
    if not (root / "uv.lock").is_file():
        raise ConfigError(f"{root / 'uv.lock'}: not found; the Bento's requirements come from it")
    command = [find_uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project",
               "--no-header", "--no-annotate"]  # fmt: skip
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise ConfigError(f"`uv export` failed: {done.stderr.strip()[-2000:]}")
    return [line for line in done.stdout.splitlines() if line.strip() and not line.startswith("#")]


def _build_bento(config: dict[str, Any], root: Path, spec: ServingSpec) -> Any:
    """Build from bentofile.yaml, with the exported requirements as the Python packages."""
    import bentoml

    options = dict(config)
    python = dict(options.pop("python", None) or {})
    if python.get("requirements_txt") or python.get("packages"):
        raise ConfigError(
            "bentofile.yaml: leave python.packages and python.requirements_txt out; "
            "`lifecycle build` takes the packages from uv.lock"
        )
    python["packages"] = export_requirements(root)
    python.setdefault("lock_packages", False)  # uv.lock already pins every package
    labels = {**(options.pop("labels", None) or {}), "model_version": spec.model_version}
    _put_uv_on_path()
    # import the service afresh with these build arguments
    sys.modules.pop("lifecycle.serving.service", None)
    return bentoml.bentos.build(
        **options,
        name=bento_name(spec.model_name),
        labels={**labels, "model_sha256": spec.sha256[:63]},
        python=python,
        build_ctx=str(root),
        args=spec.model_dump(mode="json"),
    )


def _put_uv_on_path() -> None:
    """BentoML runs ``uv`` from PATH (or pip-installs it); give it ours."""
    folder = str(Path(find_uv()).parent)
    path = os.environ.get("PATH", "")
    if folder not in path.split(os.pathsep):
        os.environ["PATH"] = folder + os.pathsep + path


@dataclass(frozen=True)
class Built:
    """A Bento in the local store and the model version it serves."""

    tag: str
    model_version: str


def find_bento(settings: Settings, bento: str | None = None, ref: str | None = None) -> Built:
    """The Bento to serve: ``bento`` as given, else the one ``build`` recorded on ``ref``."""
    import bentoml
    from bentoml.exceptions import BentoMLException

    if bento is None:
        bento, version = _recorded_bento(settings, ref or "candidate")
    else:
        version = ""
    try:
        found = bentoml.get(bento)
    except (BentoMLException, ValueError):
        raise RegistryError(
            f"no Bento '{bento}' in the BentoML store at {os.environ.get('BENTOML_HOME')}: "
            "run `lifecycle build` (or set BENTOML_HOME to the store that holds it)"
        ) from None
    return Built(str(found.tag), version or str(found.info.labels.get("model_version", "")))


def _recorded_bento(settings: Settings, ref: str) -> tuple[str, str]:
    from lifecycle.registry import models, tracking

    tracking.configure()
    version = models.resolve(settings, ref)
    tag = (version.tags or {}).get(TAG_BENTO)
    if not tag:
        raise RegistryError(
            f"model version {version.version} ('{ref}') has no Bento yet: run "
            f"`lifecycle build --version {version.version}`"
        )
    archive.ensure_local(version, tag, required=False)  # from the registry, if stored there
    return tag, str(version.version)


def export(tag: str, path: Path) -> Path:
    """Write the Bento ``tag`` to the archive ``path`` (.bento), whole or not at all."""
    import bentoml
    from bentoml.exceptions import BentoMLException

    target = path.resolve()  # BentoML reads a relative path from the filesystem root
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".bento-export-", dir=target.parent) as scratch:
            written = bentoml.export_bento(tag, str(Path(scratch) / "export.bento"))
            Path(written).replace(target)
    except (BentoMLException, OSError) as exc:
        raise ConfigError(
            f"the Bento {tag} could not be exported to {path} ({exc}): choose a writable path"
        ) from None
    return path
