"""Deploy target `local`: the Bento served on this host, detached, one server per environment.

The server is started with the serving helper (``lifecycle.serving.server``) and left running.
Each environment's server is remembered in a small state file (pid, port, Bento tag, version),
so a redeploy of the same Bento is a no-op, a new Bento replaces the old server, and a failed
start or smoke test puts the previous server back. State lives in LIFECYCLE_DEPLOY_DIR (default
~/.local/state/lifecycle/deployments) because the server outlives the command and the checkout;
deployed Bentos are copied into a BentoML store there, so a later rollback still finds them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from lifecycle.errors import LifecycleError

STOP_TIMEOUT_S = 20


@dataclass(frozen=True)
class Deployed:
    environment: str
    pid: int
    host: str
    port: int
    bento_tag: str
    version: str
    log: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def state_dir() -> Path:
    configured = os.environ.get("LIFECYCLE_DEPLOY_DIR")
    if configured:
        return Path(configured).resolve()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "lifecycle" / "deployments"


def deploy_home() -> Path:
    """The BentoML store the deployed servers run from (outlives any checkout)."""
    return state_dir() / "bentoml"


def current(environment: str) -> Deployed | None:
    """The server recorded for the environment, if its process still runs."""
    path = state_dir() / f"{environment}.json"
    if not path.is_file():
        return None
    deployed = Deployed(**json.loads(path.read_text(encoding="utf-8")))
    return deployed if _alive(deployed.pid) else None


def roll_out(
    target: Deployed,
    timeout_s: float,
    source_home: Path,
    predictions: Path,
    check: Callable[[str], None],
) -> tuple[Deployed, bool]:
    """Serve ``target`` (its pid is ignored) and `check` it; returns (deployed, changed).

    If the new server does not start or fails the check, it is stopped and the previous one
    (if any) is started again, so a failed deploy leaves the environment as it was.
    """
    from lifecycle.serving import server

    running = current(target.environment)
    same = running and (running.bento_tag, running.port) == (target.bento_tag, target.port)
    if running and same and server.is_ready(running.url):
        check(running.url)
        return running, False
    install(target.bento_tag, source_home)
    if running:
        stop(running)
    try:
        deployed = _start(target, timeout_s, predictions)
        try:
            check(deployed.url)
        except LifecycleError:
            stop(deployed)
            raise
    except LifecycleError:
        if running:
            _start(running, timeout_s, predictions)
        raise
    return deployed, True


def install(bento_tag: str, source_home: Path) -> None:
    """Copy the Bento from the build's store into the deploy store (export, then import)."""
    name, _, version = bento_tag.partition(":")
    if (deploy_home() / "bentos" / name / version).is_dir():
        return
    deploy_home().mkdir(parents=True, exist_ok=True)
    exported = state_dir() / f"{name}-{version}.bento"
    try:
        _bentoml(source_home, "export", bento_tag, str(exported))
        _bentoml(deploy_home(), "import", str(exported))
    finally:
        exported.unlink(missing_ok=True)


def _bentoml(home: Path, *args: str) -> None:
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    command = [sys.executable, "-m", "bentoml", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LifecycleError(
            f"`bentoml {' '.join(args)}` failed (BENTOML_HOME={home}): "
            f"{(done.stderr or done.stdout).strip()[-1500:]}"
        )


def _start(target: Deployed, timeout_s: float, predictions: Path) -> Deployed:
    from lifecycle.serving import server

    log = state_dir() / f"{target.environment}.log"
    with _bentoml_home(deploy_home()):
        started = server.start(target.bento_tag, target.host, target.port, log, predictions)
    try:
        server.wait_ready(started, timeout_s)
    except LifecycleError:
        server.stop(started)
        raise
    deployed = Deployed(**{**asdict(target), "pid": started.process.pid, "log": str(log)})
    _save(deployed)
    return deployed


@contextlib.contextmanager
def _bentoml_home(home: Path) -> Iterator[None]:
    """BENTOML_HOME for the server about to start (the helper passes on this environment)."""
    before = os.environ.get("BENTOML_HOME")
    os.environ["BENTOML_HOME"] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("BENTOML_HOME", None)
        else:
            os.environ["BENTOML_HOME"] = before


def stop(deployed: Deployed) -> None:
    """Stop the server's whole process group (BentoML runs workers), then forget it."""
    try:
        os.killpg(deployed.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _alive(deployed.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(deployed.pid):
            os.killpg(deployed.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    (state_dir() / f"{deployed.environment}.json").unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")  # a zombie (exited, not yet reaped) counts as gone
    with contextlib.suppress(OSError):
        return ") Z " not in stat.read_text(encoding="utf-8", errors="replace")
    return True


def _save(deployed: Deployed) -> None:
    path = state_dir() / f"{deployed.environment}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(deployed)), encoding="utf-8")
    partial.replace(path)
