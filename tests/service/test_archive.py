"""The Bento travels with its model version: stored in the registry by `build`, fetched by deploy.

The session's Bento (``serving_world``) was built with the real CLI, which logged the exported
archive with the version's run and recorded its place and sha256 on the version. Here a runner
that did not build it (an empty BENTOML_HOME and deploy folder) deploys it from the registry and
serves it; an archive changed in the artifact store after the build is refused, nothing moved.
"""

import json
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from lifecycle.deploy import local
from lifecycle.serving import archive
from lifecycle.serving.artifact import file_sha256
from lifecycle.serving.server import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a real Bento, served from the registry


def client(world) -> MlflowClient:
    uri = world.env["MLFLOW_TRACKING_URI"]
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def version_tags(world) -> dict[str, str]:
    return client(world).get_model_version(world.settings.model.name, world.version).tags


def fresh_runner(world, tmp_path) -> dict[str, str]:
    """The environment of a job on another machine: an empty BentoML store and deploy folder."""
    return {"BENTOML_HOME": str(tmp_path / "bentoml"), "LIFECYCLE_DEPLOY_DIR": str(tmp_path / "d")}


def stop_deployed(folder: Path, monkeypatch) -> None:
    """Stop the servers the deploy left running in the runner's deploy folder."""
    monkeypatch.setenv("LIFECYCLE_DEPLOY_DIR", str(folder))
    for state in folder.glob("*.json"):
        local.stop(local.Deployed(**json.loads(state.read_text(encoding="utf-8"))))


def loaded_from(pid: int, folder: Path) -> list[str]:
    """Files under ``folder`` mapped by the process or its children (BentoML's workers)."""
    pids = [pid, *(int(p) for p in (Path("/proc") / str(pid) / "task" / str(pid) / "children")
                   .read_text().split())]  # fmt: skip
    found = set()
    for each in pids:
        for line in (Path("/proc") / str(each) / "maps").read_text().splitlines():
            name = line.split()[-1]
            if name.startswith(str(folder) + "/"):
                found.add(name)
    return sorted(found)


def test_the_build_stored_the_bento_with_its_version(serving_world, tmp_path):
    tags = version_tags(serving_world)
    run_id = (
        client(serving_world)
        .get_model_version(serving_world.settings.model.name, serving_world.version)
        .run_id
    )
    name = serving_world.bento_tag.replace(":", "-") + ".bento"
    assert tags[archive.TAG_ARCHIVE] == f"runs:/{run_id}/bento/{name}"
    stored = client(serving_world).download_artifacts(run_id, f"bento/{name}", str(tmp_path))
    assert file_sha256(Path(stored)) == tags[archive.TAG_ARCHIVE_SHA256]


def test_a_runner_that_did_not_build_it_deploys_the_bento_from_the_registry(
    serving_world, tmp_path, monkeypatch
):
    world = serving_world
    port = free_port("127.0.0.1")
    params = world.params_with(
        {"environments": {"dev": {"deploy": {"target": "local", "port": port}}}}, "fetch.yaml"
    )
    runner = fresh_runner(world, tmp_path)
    try:
        done = world.cli("deploy", "--params", str(params), "--env", "dev",
                         "--version", world.version, env=runner)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"http://127.0.0.1:{port}" in done.stdout
        assert (tmp_path / "bentoml" / "bentos").is_dir()  # fetched into the empty store
        state = json.loads((tmp_path / "d" / "dev.json").read_text())
        assert state["bento_tag"] == world.bento_tag and state["version"] == world.version
        # it serves on a runtime in the deploy folder, nothing loaded from the deploying
        # environment (a CI job's checkout and virtualenv are deleted when the job ends)
        interpreter = (Path("/proc") / str(state["pid"]) / "cmdline").read_bytes().split(b"\0")[0]
        assert Path(interpreter.decode()).is_relative_to(tmp_path / "d" / "runtimes")
        assert loaded_from(state["pid"], Path(sys.prefix)) == []
    finally:
        stop_deployed(tmp_path / "d", monkeypatch)


def test_an_archive_changed_after_the_build_is_refused_and_nothing_moves(serving_world, tmp_path):
    world = serving_world
    registry = client(world)
    found = registry.get_model_version(world.settings.model.name, world.version)
    name = world.bento_tag.replace(":", "-") + ".bento"
    original = Path(registry.download_artifacts(found.run_id, f"bento/{name}", str(tmp_path)))
    kept = tmp_path / "kept" / name
    kept.parent.mkdir()
    original.replace(kept)
    changed = tmp_path / "changed" / name
    changed.parent.mkdir()
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed.write_bytes(bytes(data))
    params = world.params_with(
        {"environments": {"staging": {"deploy": {"target": "command", "command": "true"}}}},
        "tampered.yaml",
    )
    registry.log_artifact(found.run_id, str(changed), "bento")  # replaces the stored file
    try:
        done = world.cli("deploy", "--params", str(params), "--env", "staging",
                         "--version", world.version, env=fresh_runner(world, tmp_path))  # fmt: skip
    finally:
        registry.log_artifact(found.run_id, str(kept), "bento")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"has sha256 {file_sha256(changed)}" in done.stderr
    assert f"recorded {version_tags(world)[archive.TAG_ARCHIVE_SHA256]}" in done.stderr
    assert "nothing was deployed" in done.stderr
    assert not list((tmp_path / "bentoml").glob("bentos/*/*"))  # nothing imported
    model = registry.get_registered_model(world.settings.model.name)
    assert "staging" not in model.aliases
    assert not any(
        json.loads(v).get("environment") == "staging"
        for k, v in model.tags.items()
        if k.startswith("history.")
    )
