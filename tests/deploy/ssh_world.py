"""Helpers for target ssh: a real OpenSSH server on loopback, a project with two built versions.

- ``Sshd``: ``/usr/sbin/sshd`` on a free loopback port with its own host key and an authorised
  client key, both made in a temporary folder; ``Sshd.env()`` are the LIFECYCLE_SSH_* variables
  that reach it. ``Sshd.start(force_command)`` starts another one (the same keys), for faults
  on the host's side.
- ``Project``: a model trained, registered and built twice with the real CLI in child
  processes, on an embedded MLflow store and a BentoML store of its own.
  ``Project.params(environment, **deploy)`` writes settings whose ``environment`` deploys to the
  ssh target with the host's folder, runtime and free ports; ``Project.cli`` runs a verb.

The host's runtime is this test environment's Python (``deploy.ssh.python``): it has bentoml and
supervisor; nginx comes from the system.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

import fixtures

ROOT = Path(__file__).resolve().parents[2]
SSHD = Path("/usr/sbin/sshd")
STARTUP_TIMEOUT_S = 30


def missing_system_packages() -> str:
    """Why these tests cannot run here, naming the Debian package to install; '' if they can."""
    if not SSHD.is_file():
        return "openssh-server is not installed (no /usr/sbin/sshd): apt-get install openssh-server"
    if not (shutil.which("ssh") and shutil.which("ssh-keygen")):
        return "openssh-client is not installed (no ssh): apt-get install openssh-client"
    if not any(Path(d, "nginx").is_file() for d in ("/usr/sbin", "/usr/local/sbin", "/usr/bin")):
        return "nginx is not installed (no /usr/sbin/nginx): apt-get install nginx"
    if not Path(sys.executable).with_name("supervisord").is_file():
        return "supervisor is not installed in this environment: make env"
    return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


@dataclass
class Sshd:
    folder: Path
    host_key: Path
    client_key: Path
    port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, force_command: str = "") -> int:
        """An sshd on a free loopback port (this user, key only); its port."""
        port = free_port()
        config = self.folder / f"sshd-{port}.conf"
        lines = [
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            f"PidFile {self.folder / f'sshd-{port}.pid'}",
            f"AuthorizedKeysFile {self.folder / 'authorized_keys'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",  # the temporary folder is not a home folder
            "UsePAM no",
            "AllowTcpForwarding yes",
            f"AllowUsers {pwd.getpwuid(os.getuid()).pw_name}",
        ]
        if force_command:
            lines.append(f"ForceCommand {force_command}")
        config.write_text("\n".join(lines) + "\n")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        log = (self.folder / f"sshd-{port}.log").open("ab")
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"sshd exited: {(self.folder / f'sshd-{port}.log').read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return port
            time.sleep(0.1)
        pytest.fail(f"sshd not listening on {port} after {STARTUP_TIMEOUT_S} s")

    def env(self, port: int | None = None) -> dict[str, str]:
        return {
            "LIFECYCLE_SSH_HOST": "127.0.0.1",
            "LIFECYCLE_SSH_PORT": str(port or self.port),
            "LIFECYCLE_SSH_USER": pwd.getpwuid(os.getuid()).pw_name,
            "LIFECYCLE_SSH_KEY": self.client_key.read_text(),
            "LIFECYCLE_SSH_HOST_KEY": Path(f"{self.host_key}.pub").read_text(),
        }

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


@dataclass(frozen=True)
class Project:
    root: Path
    host_dir: Path
    env: dict[str, str]
    versions: dict[str, str]  # model version -> Bento tag

    def params(self, environment: str, name: str = "", **deploy: Any) -> Path:
        """Settings deploying ``environment`` to the ssh target on free ports (``deploy``
        merged into its deploy section); written to ``<name or environment>.yaml``."""
        section = {
            "target": "ssh",
            "port": free_port(),
            "ssh": {
                "dir": str(self.host_dir),
                "python": sys.executable,
                "listen": "127.0.0.1",
                "slot_ports": [free_port(), free_port()],
            },
        }
        merged = fixtures.deep_merge(section, deploy)
        base = yaml.safe_load((self.root / "params.yaml").read_text())
        raw = fixtures.deep_merge(base, {"environments": {environment: {"deploy": merged}}})
        path = self.root / f"{name or environment}.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return path

    def host_status(self, params: Path, environment: str) -> dict[str, Any]:
        """hostctl's status of the environment, read on the host (this machine) directly."""
        from lifecycle.deploy import ssh
        from lifecycle.settings import load_settings

        config = json.dumps(ssh.layout(load_settings(params), environment))
        script = self.host_dir / environment / "hostctl.py"
        done = subprocess.run([sys.executable, str(script), "status", config],
                              capture_output=True, text=True, check=True)  # fmt: skip
        return json.loads(done.stdout)

    def cli(self, params: Path, *argv: str, env: dict[str, str] | None = None):
        return subprocess.run(
            [sys.executable, "-m", "lifecycle", *argv, "--params", str(params)],
            cwd=self.root,
            env={**os.environ, **self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
        )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return done


def last_output(path: Path, name: str) -> str:
    """The value last written to the GitHub step output ``name`` (name<<delimiter, value, ...)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[max(i for i, line in enumerate(lines) if line.startswith(f"{name}<<")) + 1]


def get(url: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def served_version(url: str) -> str:
    return str(get(f"{url}/metadata/")["model_version"])


def wait_until(condition, timeout_s: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            if condition():
                return
        time.sleep(0.5)
    pytest.fail(f"not true after {timeout_s} s: {what}")


def alias_and_history(project: Project, params: Path, environment: str):
    """(the version the environment's alias points at or None, its history entries)."""
    import mlflow

    from lifecycle.registry import aliases
    from lifecycle.settings import load_settings

    with pytest.MonkeyPatch.context() as patch:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            patch.setenv(name, project.env[name])
        settings = load_settings(params)
        try:
            return aliases.current(settings).get(environment), aliases.history(
                settings, environment
            )
        finally:
            mlflow.set_tracking_uri(None)
            mlflow.set_registry_uri(None)


class Hammer(threading.Thread):
    """Valid predictions sent to ``url`` one after another until the block ends; every failure
    and every model version that answered is kept."""

    def __init__(self, url: str) -> None:
        from lifecycle.deploy.deployment import example_from_schema

        super().__init__(daemon=True)
        self.url, self.sent, self.failed, self.versions = url, 0, [], set()
        self.record = example_from_schema(get(f"{url}/metadata/")["request_schema"])
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.sent += 1
            try:
                answer = get(f"{self.url}/predict", self.record)
                self.versions.add(str(answer["model_version"]))
            except (OSError, ValueError, KeyError) as exc:
                self.failed.append(repr(exc))

    def __enter__(self) -> Hammer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.join()
