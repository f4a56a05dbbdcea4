"""Fixtures for target ssh (the classes and helpers are in ssh_world.py).

- ``sshd`` (session): a real ``/usr/sbin/sshd`` on loopback (``ssh_world.Sshd``); skips, naming
  the Debian package, when sshd, the ssh client or nginx is missing.
- ``project`` (session): a model trained, registered and built twice (versions 1 and 2) with the
  real CLI (``ssh_world.Project``); at the end every supervisord a test's host started is shut
  down, which stops the nginx and Bento servers it supervises.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ssh_world import ROOT, Project, Sshd, keygen, last_output, missing_system_packages, ok

import fixtures
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    reason = missing_system_packages()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("sshd")
    server = Sshd(folder, keygen(folder / "host_ed25519"), keygen(folder / "client_ed25519"))
    shutil.copyfile(f"{server.client_key}.pub", folder / "authorized_keys")
    server.port = server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory, tracking_template: Path, sshd: Sshd):
    root = tmp_path_factory.mktemp("ssh-project")
    (root / "mlruns").mkdir()
    shutil.copyfile(tracking_template, root / "mlruns" / "mlflow.db")
    data = write_table(generate(3000, 11), root / "data" / "credit.parquet")
    overrides = {
        "model": {"params": {"max_iter": 30}},
        "serving": {"workers": 1, "prediction_log": {"path": str(root / "predictions")}},
    }
    fixtures.write_params(root / "params.yaml", data, overrides)
    env = {**fixtures.project_env(root), "GITHUB_TOKEN": "", "GH_TOKEN": "", **sshd.env()}
    host_dir = root / "host"
    made = Project(root, host_dir, env, {})
    build = ["build", "--bentofile", str(ROOT / "bentofile.yaml")]
    for version in ("1", "2"):
        for step in (["train"], ["register"], [*build, "--version", version]):
            ok(made.cli(root / "params.yaml", *step))
        made.versions[version] = last_output(root / "github_output", "bento-tag")
    try:
        yield made
    finally:
        for conf in host_dir.glob("*/supervisord.conf"):  # stops nginx and the Bento servers too
            subprocess.run(
                [str(Path(sys.executable).with_name("supervisorctl")), "-c", str(conf), "shutdown"],
                capture_output=True,
                timeout=120,
            )
