"""Target ssh: each fault fails the deploy with a message naming its cause (exit 2), while the
live version keeps serving and the environment's alias stays where it was.

Version 1 is live on prod (blue-green). Each test tries to deploy version 2 through one fault:
nothing listens at the SSH address; the host answers with a key other than the pinned one; the
host refuses the client's key; a connection variable is missing or malformed; the
Bento is corrupted on its way to the host (an sshd whose ForceCommand flips one byte of the
upload, then runs the command); the host's upload folder is a tiny tmpfs (a really full disk);
the free-space margin asks for more than any disk has. Then the same deploy, fault-free, works.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from ssh_world import alias_and_history, free_port, keygen, ok, served_version

from lifecycle.settings import load_settings

pytestmark = [pytest.mark.deploy, pytest.mark.integration, pytest.mark.slow]
CORRUPTER = """
import os, subprocess, sys
command = os.environ.get("SSH_ORIGINAL_COMMAND", "")
if "hostctl.py receive" in command:
    data = bytearray(sys.stdin.buffer.read())
    data[len(data) // 2] ^= 0x01
    sys.exit(subprocess.run(["/bin/sh", "-c", command], input=bytes(data)).returncode)
os.execv("/bin/sh", ["/bin/sh", "-c", command])
"""


@pytest.fixture(scope="module")
def prod(project):
    """(params, public URL): version 1 live on prod."""
    params = project.params("prod", strategy="blue-green")
    ok(project.cli(params, "deploy", "--env", "prod", "--bootstrap"))
    ok(project.cli(params, "deploy", "--env", "prod", "--version", "1"))
    return params, f"http://127.0.0.1:{load_settings(params).environments['prod'].deploy.port}"


def fails_cleanly(project, prod, cause: str, params=None, env=None):
    """Deploying version 2 fails with ``cause`` named; 1 serves, the alias and history stay."""
    live_params, public = prod
    done = project.cli(params or live_params, "deploy", "--env", "prod", "--version", "2", env=env)
    assert done.returncode == 2, f"{done.stdout}\n{done.stderr}"
    assert cause in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert served_version(public) == "1"
    alias, history = alias_and_history(project, live_params, "prod")
    assert alias == "1" and len(history) == 1
    return done


def test_an_unreachable_host(project, prod):
    fails_cleanly(project, prod, "host unreachable", env={"LIFECYCLE_SSH_PORT": str(free_port())})


def test_a_host_key_other_than_the_pinned_one(project, prod, tmp_path):
    impostor = keygen(tmp_path / "impostor")
    env = {"LIFECYCLE_SSH_HOST_KEY": impostor.with_suffix(".pub").read_text()}
    done = fails_cleanly(project, prod, "not the one pinned in LIFECYCLE_SSH_HOST_KEY", env=env)
    assert "host key verification failed" in done.stderr


def test_a_key_the_host_refuses(project, prod, tmp_path):
    stranger = keygen(tmp_path / "stranger")
    done = fails_cleanly(project, prod, "refused the key in LIFECYCLE_SSH_KEY",
                         env={"LIFECYCLE_SSH_KEY": stranger.read_text()})  # fmt: skip
    assert "authorized_keys" in done.stderr


@pytest.mark.parametrize(
    ("env", "cause"),
    [
        ({"LIFECYCLE_SSH_KEY": ""}, "target ssh needs LIFECYCLE_SSH_KEY"),
        ({"LIFECYCLE_SSH_KEY": "not a key"}, "LIFECYCLE_SSH_KEY does not hold a private key"),
        ({"LIFECYCLE_SSH_HOST_KEY": " "}, "target ssh needs LIFECYCLE_SSH_HOST_KEY"),
        ({"LIFECYCLE_SSH_HOST_KEY": "not a key"}, "is not a public host key"),
        ({"LIFECYCLE_SSH_PORT": "ssh"}, "LIFECYCLE_SSH_PORT='ssh': not a port number"),
    ],
    ids=["no-key", "key-not-a-key", "no-host-key", "host-key-not-a-key", "port-not-a-number"],
)
def test_missing_or_malformed_connection_settings(project, prod, env, cause):
    fails_cleanly(project, prod, cause, env=env)


def test_a_bento_corrupted_on_its_way(project, prod, sshd, tmp_path):
    wrapper = tmp_path / "corrupt.py"
    wrapper.write_text(textwrap.dedent(CORRUPTER))
    port = sshd.start(force_command=f"{sys.executable} {wrapper}")
    fails_cleanly(project, prod, "has sha256", env={"LIFECYCLE_SSH_PORT": str(port)})
    assert list((project.host_dir / "prod" / "incoming").iterdir()) == []  # removed
    assert project.versions["2"] not in project.host_status(prod[0], "prod")["bentos"]


def test_a_full_disk(project, prod):
    incoming = project.host_dir / "prod" / "incoming"
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(incoming)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()})")
    try:
        fails_cleanly(project, prod, "disk full on the host")
        assert list(incoming.iterdir()) == []
    finally:
        subprocess.run(["umount", str(incoming)], check=True)


def test_a_free_space_margin_no_disk_has(project, prod):
    live = load_settings(prod[0]).environments["prod"].deploy.model_dump(mode="json")
    live["ssh"]["min_free_mb"] = 10**12  # an exabyte
    params = project.params("prod", name="prod-margin", **live)
    fails_cleanly(project, prod, "disk full on the host", params=params)


def test_after_the_faults_the_deploy_succeeds(project, prod):
    params, public = prod
    ok(project.cli(params, "deploy", "--env", "prod", "--version", "2"))
    assert served_version(public) == "2"
    assert alias_and_history(project, params, "prod")[0] == "2"
