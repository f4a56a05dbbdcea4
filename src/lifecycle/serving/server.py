"""A served Bento's lifetime: start ``bentoml serve`` in its own process group, wait for
``/readyz``, and always stop it (``running`` is a context manager), so no test, load test or CI
step leaves a server behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import LifecycleError
from lifecycle.serving.predlog import ENV_PATH, location

POLL_S = 0.25
STOP_GRACE_S = 15
# the lines of a failed server's log that say why (our own errors first)
REASONS = ("ArtifactMismatch", "Error:", "error:")


class ServerError(LifecycleError):
    """The served Bento did not start, or died: the message carries the reason from its log."""


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _command(bento_tag: str, host: str, port: int, python: Path | None = None) -> list[str]:
    return [
        str(python or sys.executable),
        "-m",
        "bentoml",
        "serve",
        bento_tag,
        "--host",
        host,
        "--port",
        str(port),
    ]


def _env(
    prediction_log: str | Path | None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    if prediction_log is not None:
        env[ENV_PATH] = location(prediction_log)
    return env


def start(
    bento_tag: str,
    host: str,
    port: int,
    log: Path,
    prediction_log: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    python: Path | None = None,
    cwd: Path | None = None,
) -> Server:
    """``bentoml serve <tag>`` in the background, in its own process group; output to ``log``.

    ``env`` adds to this process's environment (for example another BENTOML_HOME); ``python``
    is the interpreter to serve on (default: this one), ``cwd`` its working folder.
    """
    port = port or free_port(host)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            _command(bento_tag, host, port, python),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=_env(prediction_log, env),
            start_new_session=True,
        )
    return Server(f"http://{host}:{port}", process, log)


def foreground(
    bento_tag: str, host: str, port: int, prediction_log: str | Path | None = None
) -> int:
    """``bentoml serve <tag>`` attached to this terminal until it ends; its exit code.

    Ctrl-C reaches both processes; a SIGTERM sent to this one is passed on to the server.
    """
    process = subprocess.Popen(_command(bento_tag, host, port), env=_env(prediction_log))
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(STOP_GRACE_S)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_ready(server: Server, timeout_s: float) -> None:
    """Poll ``/readyz`` until it answers 200; ServerError if the server dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive:
            raise ServerError(
                f"the server exited (code {server.process.returncode}) before it was ready: "
                f"{reason(server.log)}"
            )
        if is_ready(server.url):
            return
        time.sleep(POLL_S)
    raise ServerError(
        f"the server at {server.url} was not ready after {timeout_s:g} s "
        f"(serving.startup_timeout_s): {reason(server.log)}"
    )


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:  # noqa: S310 (http only)
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop(server: Server) -> int | None:
    """SIGTERM to the whole process group, SIGKILL after a grace period; the exit code."""
    if server.alive:
        _signal_group(server.process, signal.SIGTERM)
        try:
            server.process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(server.process, signal.SIGKILL)
            server.process.wait(STOP_GRACE_S)
    _signal_group(server.process, signal.SIGKILL)  # any worker left behind
    return server.process.returncode


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


@contextmanager
def running(
    bento_tag: str,
    host: str,
    port: int,
    log: Path,
    timeout_s: float,
    prediction_log: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """A ready server for the block; stopped on the way out, whatever happened inside."""
    server = start(bento_tag, host, port, log, prediction_log, env)
    try:
        wait_ready(server, timeout_s)
        yield server
    finally:
        stop(server)


def reason(log: Path, lines: int = 12) -> str:
    """Why a server failed, from its log: our error line if there is one, else the tail."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return f"(no log at {log})"
    for marker in REASONS:
        found = [line for line in text if marker in line]
        if found:
            return found[-1].strip()
    tail = "\n".join(text[-lines:])
    return f"last lines of {log}:\n{tail}" if tail else f"nothing in {log}"
