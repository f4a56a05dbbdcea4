"""Target ssh, strategy replace: bootstrap a host, deploy, survive the job, restart after a crash.

Everything is real: sshd on loopback, supervisord and nginx started on the "host" by the
bootstrap over SSH, Bento servers under supervisord, every step the CLI in its own process (so the
deploying process has ended before anything is checked).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ssh_world import ok, served_version, wait_until

from lifecycle.registry import aliases
from lifecycle.settings import load_settings

pytestmark = [pytest.mark.deploy, pytest.mark.integration, pytest.mark.slow]


def supervisorctl(conf: Path, *args: str) -> str:
    command = [str(Path(sys.executable).with_name("supervisorctl")), "-c", str(conf), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout


def slot_processes(marker: Path) -> set[int]:
    """The processes of a slot: those whose environment carries its LIFECYCLE_SLOT marker."""
    tag = f"LIFECYCLE_SLOT={marker}".encode() + b"\0"
    found = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            alive = ") Z " not in (entry / "stat").read_text()
            if alive and tag in (entry / "environ").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue
    return found


def test_bootstrap_is_idempotent_and_an_unprepared_host_is_named(project):
    params = project.params("qa")
    refused = project.cli(params, "deploy", "--env", "qa", "--version", "1")
    assert refused.returncode == 2, refused.stderr
    assert "--bootstrap" in refused.stderr and "Traceback" not in refused.stderr

    first = ok(project.cli(params, "deploy", "--env", "qa", "--bootstrap"))
    assert "supervisord: started" in first.stdout and "nginx.conf: created" in first.stdout
    again = ok(project.cli(params, "deploy", "--env", "qa", "--bootstrap"))
    assert "supervisord: running" in again.stdout
    for item in ("supervisord.conf", "nginx.conf", "programs/nginx.conf"):
        assert f"{item}: unchanged" in again.stdout, again.stdout
    assert "nginx" in supervisorctl(project.host_dir / "qa" / "supervisord.conf", "status")


def test_replace_deploys_outlives_the_job_restarts_after_a_crash_and_replaces(project):
    params = project.params("dev", strategy="replace")
    ok(project.cli(params, "deploy", "--env", "dev", "--bootstrap"))
    settings = load_settings(params)
    public = f"http://127.0.0.1:{settings.environments['dev'].deploy.port}"

    done = ok(project.cli(params, "deploy", "--env", "dev", "--version", "1"))
    assert f"; http://127.0.0.1:{settings.environments['dev'].deploy.port}" in done.stdout
    assert served_version(public) == "1"  # the deploying process has ended; the server has not
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", project.env["MLFLOW_TRACKING_URI"])
        patch.setenv("MLFLOW_REGISTRY_URI", project.env["MLFLOW_REGISTRY_URI"])
        assert aliases.current(settings)["dev"] == "1"

    conf = project.host_dir / "dev" / "supervisord.conf"
    pid = int(supervisorctl(conf, "pid", "blue"))
    crashed = slot_processes(project.host_dir / "dev" / "blue")
    assert pid in crashed and len(crashed) > 1  # the server and its worker
    os.kill(pid, signal.SIGKILL)  # a crash: the server's main process dies, its worker lives on
    wait_until(lambda: supervisorctl(conf, "pid", "blue").strip() not in ("", "0", str(pid)))
    blue = project.host_dir / "dev" / "blue"
    # the restarted program sweeps what the crashed one left (a worker keeps the port otherwise)
    wait_until(lambda: not crashed & slot_processes(blue), what=f"{crashed} left behind")
    wait_until(lambda: served_version(public) == "1", what="served again after the crash")

    again = ok(project.cli(params, "deploy", "--env", "dev", "--version", "1"))
    assert "already running" in again.stdout  # same Bento live: nothing rolled out

    ok(project.cli(params, "deploy", "--env", "dev", "--version", "2"))
    assert served_version(public) == "2"
    status = supervisorctl(conf, "status")
    assert "green" in status and "RUNNING" in status.split("green", 1)[1].splitlines()[0]
    assert "blue" not in status  # replace: the old slot is stopped, its program removed
