"""A byte flipped in the model artifact: the service refuses to start, and says why."""

import shutil

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_changed_artifact_stops_the_server_with_a_clear_message(serving_world, tmp_path):
    home = tmp_path / "bentoml"
    shutil.copytree(serving_world.root / "bentoml", home)  # never damage the shared store
    (artifact,) = [p for p in home.glob("models/*/*/mlflow/model.*") if p.suffix != ".yaml"]
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0x01
    artifact.write_bytes(bytes(data))
    done = serving_world.cli(
        "serve", "--params", str(serving_world.params), "--bento", serving_world.bento_tag,
        "--background", "--port", "0", "--log", str(tmp_path / "serve.log"),
        env={"BENTOML_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "does not match the Bento" in done.stderr
    assert serving_world.sha256 in done.stderr
    assert "Traceback" not in done.stderr
