"""Deploy target `ssh`: a serving host reached over SSH, its servers supervised, nginx in front.

The client side. Every step on the host is a verb of ``hostctl.py`` (copied there first, so the
host runs the code that matches this one), called over OpenSSH with the host key pinned:

1. ``status``: is the host prepared (``lifecycle deploy --bootstrap``), which slot is live, what
   each slot serves, which Bentos it holds. Nothing else is tried on an unprepared host.
2. The Bento, unless the host holds it: exported from the build's store, streamed over SSH to
   ``receive``, which checks the host's free space first and the sha256 on its disk before
   ``bentoml import``.
3. ``start`` in the idle slot (blue or green) under supervisord, which restarts it after a crash
   and keeps it running after the deploy ends; smoke-tested on its own port through an SSH tunnel.
4. ``route``: nginx's upstream file rewritten whole, ``nginx -t``, graceful ``nginx -s reload``;
   then the public port is smoke-tested. A failure puts the previous upstream back (and stops
   the slot this deploy started).
5. Strategy ``replace`` stops the old slot; ``blue-green`` keeps it warm, so deploying the
   previous version again (a rollback) is only step 4.

Any failure before step 4 leaves nginx, the live slot and the alias as they were. Connection
faults are named as such: an unreachable host, a host key that is not the pinned one, a key the
host refuses. ``StrictHostKeyChecking`` is always ``yes``, with a known_hosts file made from
LIFECYCLE_SSH_HOST_KEY and no other.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import shlex
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lifecycle.errors import ConfigError, LifecycleError, RegistryError, UsageError
from lifecycle.serving.predlog import is_url
from lifecycle.settings import Settings

ENV_HOST = "LIFECYCLE_SSH_HOST"
ENV_PORT = "LIFECYCLE_SSH_PORT"
ENV_USER = "LIFECYCLE_SSH_USER"
ENV_KEY = "LIFECYCLE_SSH_KEY"
ENV_HOST_KEY = "LIFECYCLE_SSH_HOST_KEY"
AGENT = Path(__file__).with_name("hostctl.py")
CONNECT_TIMEOUT_S = 15
CALL_TIMEOUT_S = 1800  # a first bootstrap installs the runtime
TUNNEL_TIMEOUT_S = 30
SLOTS = ("blue", "green")
UNREACHABLE = ("Connection refused", "timed out", "No route to host", "Could not resolve",
               "Network is unreachable", "Connection reset", "Connection closed")  # fmt: skip
WRONG_HOST_KEY = ("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED",
                  "host key is known")  # fmt: skip
# the upload's read end: the exported archive's file
Stdin = IO[bytes] | None


class SshError(LifecycleError):
    """The host could not be reached, was not the pinned one, or refused the key."""


class HostFailed(LifecycleError):
    """A step on the host failed; the message is the host's own (``hostctl``)."""


@dataclass(frozen=True)
class Remote:
    host: str
    port: int
    user: str
    key: Path
    known_hosts: Path

    @property
    def address(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def options(self) -> list[str]:
        return [
            "-F", "none",  # no user or system ssh_config changes what follows
            "-i", str(self.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}",
            "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
            "-o", "LogLevel=ERROR", "-p", str(self.port),
        ]  # fmt: skip

    def run(self, command: list[str], stdin: Stdin = None) -> str:
        """``command`` on the host (quoted for its shell); its stdout. Errors are classified."""
        argv = ["ssh", *self.options(), f"{self.user}@{self.host}", "--", shlex.join(command)]
        try:
            done = subprocess.run(
                argv,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                timeout=CALL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SshError(
                f"{self.address}: no answer within {CALL_TIMEOUT_S} s; nothing was switched"
            ) from None
        except FileNotFoundError:
            raise ConfigError(
                "target ssh needs the OpenSSH client (`ssh`): `apt-get install openssh-client`"
            ) from None
        stderr = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode == 255:
            raise self.fault(stderr)
        if done.returncode == 3 and stderr.startswith("error: "):
            raise HostFailed(f"on {self.host}: {stderr.removeprefix('error: ')}")
        if done.returncode != 0:
            raise HostFailed(
                f"on {self.host}: `{command[0]} ... {command[2] if len(command) > 2 else ''}` "
                f"exited with {done.returncode}: {stderr[-1500:] or '(no output)'}"
            )
        return done.stdout.decode("utf-8", "replace")

    def fault(self, stderr: str) -> SshError:
        """ssh's own failure (exit 255), named by its cause."""
        if any(marker in stderr for marker in WRONG_HOST_KEY):
            return SshError(
                f"{self.address}: the host's key is not the one pinned in {ENV_HOST_KEY} "
                "(host key verification failed), so nothing was sent to it. If the host was "
                "rebuilt, check its new key out of band (ssh-keyscan, the provider's console) "
                f"and update {ENV_HOST_KEY}; otherwise something else answers at that address"
            )
        if "Load key" in stderr and ("invalid format" in stderr or "error in libcrypto" in stderr):
            return SshError(
                f"{ENV_KEY} does not hold a private key OpenSSH can read: set it to the whole "
                "text of the key file, from -----BEGIN OPENSSH PRIVATE KEY----- to its END line"
            )
        if "Permission denied" in stderr:
            return SshError(
                f"{self.address}: the host refused the key in {ENV_KEY} ({stderr.splitlines()[-1]}"
                f"): add its public key to ~{self.user}/.ssh/authorized_keys on the host"
            )
        if any(marker in stderr for marker in UNREACHABLE):
            return SshError(
                f"{self.address}: host unreachable ({stderr.splitlines()[-1]}): check "
                f"{ENV_HOST}/{ENV_PORT}, that the host runs and that its SSH port is open to "
                "this runner; nothing was changed"
            )
        return SshError(f"{self.address}: ssh failed: {stderr[-1500:] or '(no output)'}")

    @contextlib.contextmanager
    def tunnel(self, remote_host: str, remote_port: int) -> Iterator[str]:
        """``http://127.0.0.1:<local>`` forwarded to ``remote_host:remote_port`` on the host."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            local = int(probe.getsockname()[1])
        forward = f"127.0.0.1:{local}:{remote_host}:{remote_port}"
        argv = ["ssh", *self.options(), "-N", "-o", "ExitOnForwardFailure=yes", "-L", forward,
                f"{self.user}@{self.host}"]  # fmt: skip
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + TUNNEL_TIMEOUT_S
            while not _accepts(local):
                if process.poll() is not None:
                    stderr = (process.stderr.read() if process.stderr else b"").decode()
                    raise self.fault(stderr.strip())
                if time.monotonic() > deadline:
                    raise SshError(f"{self.address}: the SSH tunnel to port {remote_port} did "
                                   f"not open within {TUNNEL_TIMEOUT_S} s")  # fmt: skip
                time.sleep(0.1)
            yield f"http://127.0.0.1:{local}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def connect() -> Iterator[Remote]:
    """The host named by the LIFECYCLE_SSH_* variables: its key and pinned host key written to
    a private temporary folder (removed afterwards)."""
    host = _required(ENV_HOST, "the serving host's name or address")
    user = _required(ENV_USER, "the user deploys log in as")
    key = _required(ENV_KEY, "the private key (its text) authorised on the host")
    pinned = _required(ENV_HOST_KEY, "the host's public key, pinned")
    port_text = os.environ.get(ENV_PORT) or "22"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"{ENV_PORT}={port_text!r}: not a port number (1-65535)")
    port = int(port_text)
    pattern = host if port == 22 else f"[{host}]:{port}"
    entries = [f"{pattern} {kind} {blob}" for kind, blob in host_keys(pinned)]
    with tempfile.TemporaryDirectory(prefix="lifecycle-ssh-") as scratch:
        folder = Path(scratch)
        key_file = folder / "key"
        key_file.touch(mode=0o600)
        key_file.write_text(key.strip() + "\n", encoding="utf-8")
        known = folder / "known_hosts"
        known.write_text("\n".join(entries) + "\n", encoding="utf-8")
        yield Remote(host, port, user, key_file, known)


def host_keys(text: str) -> list[tuple[str, str]]:
    """(type, base64) of each public key in ``text``: lines as in ``ssh_host_*_key.pub``
    (``type key [comment]``) or as ``ssh-keyscan`` prints them (``host type key``)."""
    keys = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if not re.match(r"^(ssh-|ecdsa-|sk-)", fields[0]) and len(fields) > 2:
            fields = fields[1:]  # ssh-keyscan's host field
        try:
            if len(fields) < 2 or not re.match(r"^(ssh-|ecdsa-|sk-)", fields[0]):
                raise ValueError(line)
            base64.b64decode(fields[1], validate=True)
        except (ValueError, binascii.Error):
            raise ConfigError(
                f"{ENV_HOST_KEY}: {line[:60]!r} is not a public host key: set it to the line of "
                "the host's /etc/ssh/ssh_host_ed25519_key.pub (or `ssh-keyscan -t ed25519 HOST` "
                "output checked against it)"
            ) from None
        keys.append((fields[0], fields[1]))
    if not keys:
        raise ConfigError(f"{ENV_HOST_KEY} holds no public host key")
    return keys


def _required(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"target ssh needs {name}: {what} (in CI an environment secret or variable; "
            "docs/workflows.md lists them)"
        )
    return value


# --- the host's layout and its agent --------------------------------------------------------


def layout(settings: Settings, environment: str) -> dict[str, Any]:
    """The CONFIG every hostctl verb receives: the environment's folders, ports and runtime."""
    spec = settings.environments[environment].deploy
    if spec.target != "ssh":
        raise UsageError(
            f"environment '{environment}' deploys with target '{spec.target}', not ssh"
        )
    return {
        "dir": spec.ssh.dir,
        "environment": environment,
        "python": spec.ssh.python,
        "listen": spec.ssh.listen,
        "port": spec.port,
        "slot_ports": list(spec.ssh.slot_ports),
        "min_free_bytes": spec.ssh.min_free_mb * 1_000_000,
        "timeout_s": settings.serving.startup_timeout_s,
        "max_body_bytes": settings.serving.max_body_bytes,
        # a URL is where the host's servers log (with the host's own credentials); otherwise
        # they log into the environment's folder on the host
        "prediction_log": url if is_url(url := settings.serving.prediction_log.path) else "",
    }


class Agent:
    """hostctl on the host, installed once per connection."""

    def __init__(self, remote: Remote, config: dict[str, Any]) -> None:
        self.remote, self.config = remote, config
        install = ("import pathlib,sys; d=pathlib.Path(sys.argv[1]).expanduser(); "
                   "d.mkdir(parents=True,exist_ok=True); p=d/'hostctl.py.partial'; "
                   "p.write_bytes(sys.stdin.buffer.read()); p.replace(d/'hostctl.py'); "
                   "print(d.resolve())")  # fmt: skip
        folder = f"{config['dir']}/{config['environment']}"
        with AGENT.open("rb") as source:
            where = remote.run(["python3", "-c", install, folder], stdin=source).strip()
        self.script = f"{where}/hostctl.py"

    def __call__(self, verb: str, *args: str, stdin: Stdin = None) -> dict[str, Any]:
        command = ["python3", self.script, verb, json.dumps(self.config), *args]
        answer: dict[str, Any] = json.loads(self.remote.run(command, stdin=stdin))
        return answer


# --- bootstrap and roll-out -----------------------------------------------------------------


def bootstrap(settings: Settings, environment: str) -> dict[str, str]:
    """Prepare the host for the environment (idempotent): what was created, updated, unchanged."""
    config = layout(settings, environment)
    with tempfile.TemporaryFile() as requirements:
        if not config["python"]:  # the host's own runtime, made from the locked requirements
            requirements.write(_runtime_requirements(settings.source.resolve().parent))
            requirements.seek(0)
        with connect() as remote:
            answer = Agent(remote, config)("bootstrap", stdin=requirements)
    done: dict[str, str] = answer["done"]
    return done


def _runtime_requirements(project: Path) -> bytes:
    from importlib.metadata import PackageNotFoundError, version

    from lifecycle.serving.bento import export_requirements

    try:
        supervisor = f"supervisor=={version('supervisor')}"  # the version the tests ran
    except PackageNotFoundError:
        supervisor = "supervisor>=4.2"
    return ("\n".join([*export_requirements(project), supervisor]) + "\n").encode("utf-8")


def roll_out(
    settings: Settings,
    environment: str,
    bento_tag: str,
    version: str,
    check: Callable[[str], None],
) -> tuple[str, bool]:
    """Serve ``bento_tag`` on the environment's host by its strategy; (public URL, changed)."""
    spec = settings.environments[environment].deploy
    config = layout(settings, environment)
    public = "127.0.0.1" if spec.ssh.listen in ("0.0.0.0", "", "*") else spec.ssh.listen  # noqa: S104
    with connect() as remote:
        url = spec.url or f"http://{remote.host}:{spec.port}"
        agent = Agent(remote, config)
        state = agent("status")
        if not state["bootstrapped"]:
            raise ConfigError(
                f"{remote.address} is not prepared for '{environment}' ({state['root']}): run "
                f"`lifecycle deploy --env {environment} --bootstrap` once (it is idempotent)"
            )
        live, slots = state["live"], state["slots"]
        if live and _serves(slots[live], bento_tag) and not state.get("weights"):
            with remote.tunnel(public, int(config["port"])) as through_nginx:
                check(through_nginx)
            return url, False
        idle = SLOTS[1] if live == SLOTS[0] else SLOTS[0]
        started = not _serves(slots[idle], bento_tag)
        if started:
            if bento_tag not in state["bentos"]:
                _upload(agent, bento_tag)
            print(f"ssh: starting {bento_tag} in the {idle} slot", flush=True)
            agent("start", idle, bento_tag, version)
        else:
            print(f"ssh: the {idle} slot already serves {bento_tag} (warm): switching back")
        try:
            with remote.tunnel("127.0.0.1", int(slots[idle]["port"])) as direct:
                check(direct)
        except BaseException:
            if started:
                agent("stop", idle)
            raise
        agent("route", json.dumps({idle: 1}), version)
        print(f"ssh: nginx on port {spec.port} now sends every request to {idle}", flush=True)
        try:
            with remote.tunnel(public, int(config["port"])) as through_nginx:
                check(through_nginx)
        except BaseException:  # nginx back where it was (no slot before the first deploy)
            back = {live: 1} if live else {}
            agent("route", json.dumps(back), str(slots[live].get("version", "")) if live else "")
            if started:
                agent("stop", idle)
            raise
        if live and spec.strategy == "replace":
            agent("stop", live)
            print(f"ssh: stopped the {live} slot (strategy replace)", flush=True)
    return url, True


def _serves(slot: dict[str, Any], bento_tag: str) -> bool:
    return bool(slot.get("bento_tag") == bento_tag and slot.get("ready"))


def _upload(agent: Agent, bento_tag: str) -> None:
    """The Bento exported from this machine's store, streamed to the host, checked, imported."""
    import bentoml
    from bentoml.exceptions import BentoMLException

    from lifecycle.serving.bento import export, use_local_home

    home = use_local_home()
    try:
        bentoml.get(bento_tag)
    except (BentoMLException, ValueError):
        raise RegistryError(
            f"no Bento '{bento_tag}' in the BentoML store at {home}: build it "
            "(`lifecycle build`) or pass the exported one (`--bento-file`)"
        ) from None
    with tempfile.TemporaryDirectory(prefix="lifecycle-upload-") as scratch:
        archive = export(bento_tag, Path(scratch) / "bento.bento")
        digest = _sha256(archive)
        size = archive.stat().st_size
        print(f"ssh: uploading {bento_tag} ({size} bytes, sha256 {digest})", flush=True)
        with archive.open("rb") as data:
            agent("receive", bento_tag.replace(":", "-"), str(size), digest, stdin=data)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
