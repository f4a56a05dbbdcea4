"""A failed deploy leaves the live version serving without a gap, and its advice works.

Version 1 is deployed to dev (local target) and kept busy with requests. Version 2's model is
tampered with in the build's BentoML store after its build; deploying it must fail (exit 2, one
clear line) while every request to the live version succeeds. Rebuilding, as the message says,
then deploys version 2. Every step is the real CLI in its own process.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from fixtures import credit_params
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path, tracking_template, monkeypatch):
    """(run(*argv) -> CompletedProcess, outputs() -> dict, root): a project of its own."""
    import shutil

    (tmp_path / "mlruns").mkdir()
    shutil.copyfile(tracking_template, tmp_path / "mlruns" / "mlflow.db")
    raw = credit_params(
        write_table(generate(3000, 11), tmp_path / "data" / "c.parquet"),
        {"model": {"params": {"max_iter": 30}}},
    )
    raw["serving"]["prediction_log"]["path"] = str(tmp_path / "predictions")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    raw["environments"] = {"dev": {"deploy": {"target": "local", "port": port}}}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    uri = f"sqlite:///{(tmp_path / 'mlruns' / 'mlflow.db').as_posix()}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri,
           "BENTOML_HOME": str(tmp_path / "bentoml"), "BENTOML_DO_NOT_TRACK": "True",
           "LIFECYCLE_DEPLOY_DIR": str(tmp_path / "deploy"),
           "GITHUB_OUTPUT": str(tmp_path / "github_output"), "GITHUB_ACTIONS": "",
           "GITHUB_STEP_SUMMARY": ""}  # fmt: skip

    def run(*argv):
        (tmp_path / "github_output").unlink(missing_ok=True)
        return subprocess.run(
            [sys.executable, "-m", "lifecycle", *argv, "--params", str(params)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip

    def outputs():
        lines = (tmp_path / "github_output").read_text(encoding="utf-8").splitlines()
        return {lines[i].split("<<")[0]: lines[i + 1] for i in range(0, len(lines), 3)}

    yield run, outputs, tmp_path
    for state in (tmp_path / "deploy").glob("*.json"):  # leave no server running
        pid = json.loads(state.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)  # BentoML stops its workers (own sessions) on TERM
        for _ in range(100):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def ok(done):
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return done


def metadata(url):
    with urllib.request.urlopen(f"{url}/metadata/", timeout=10) as answer:
        return json.loads(answer.read())


class Hammer(threading.Thread):
    """Requests to the live URL, one after another, until stopped; counts the failures."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.sent, self.failed, self.stopping = url, 0, [], threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.sent += 1
            try:
                metadata(self.url)
            except OSError as exc:
                self.failed.append(repr(exc))


def test_a_tampered_deploy_fails_without_a_gap_and_a_rebuild_fixes_it(world):
    run, outputs, root = world
    build = ["build", "--bentofile", str(ROOT / "bentofile.yaml")]
    for step in (["train"], ["register"], build, ["deploy", "--env", "dev"]):
        ok(run(*step))
    live = outputs()["url"]
    assert str(metadata(live)["model_version"]) == "1"
    for step in (["train"], ["register"], [*build, "--version", "2"]):
        ok(run(*step))
    stored = (root / "bentoml" / "models").rglob("v2-*/mlflow/**/*")
    target = max((p for p in stored if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))

    hammer = Hammer(live)
    hammer.start()
    try:
        failed = run("deploy", "--env", "dev", "--version", "2")
    finally:
        hammer.stopping.set()
        hammer.join()
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr and "Rebuild the Bento" in failed.stderr
    assert hammer.sent > 0 and hammer.failed == [], hammer.failed[:3]
    assert str(metadata(live)["model_version"]) == "1"

    served = run("serve", "--version", "2")
    assert served.returncode == 2 and "Traceback" not in served.stderr
    assert "refusing to serve them" in served.stderr

    ok(run(*build, "--version", "2"))  # what the message advises
    ok(run("deploy", "--env", "dev", "--version", "2"))
    assert str(metadata(outputs()["url"])["model_version"]) == "2"
