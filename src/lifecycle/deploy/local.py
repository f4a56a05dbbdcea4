"""Deploy target `local`: the Bento served on this host, detached, one server per environment.

The server is started with the serving helper (``lifecycle.serving.server``) and left running.
Each environment's server is remembered in a small state file (pid, port, Bento tag, version),
so a redeploy of the same Bento is a no-op. A new Bento is started beside the live server (on the
environment's port when that is free, else on a free one), smoke-tested, and only then does the
state file name it and the old server stop: a failed deploy never interrupts the live one. The
state file's URL is the environment's address (there is no proxy on this target).

State lives in LIFECYCLE_DEPLOY_DIR (default ~/.local/state/lifecycle/deployments) because the
server outlives the command and the checkout; deployed Bentos are copied into a BentoML store
there, checked by content (``lifecycle.deploy.store``), so a later rollback still finds them and
a tampered model is replaced rather than reused. The servers run on a Python environment made
there too, from the Bento's own locked requirements (``runtime``), never on the environment of
the command that started them: a CI job's checkout, its virtualenv included, is deleted when the
job ends, and a server still importing from it would fail requests.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lifecycle.deploy import store
from lifecycle.errors import LifecycleError
from lifecycle.serving.workers import process_alive

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
    return deployed if process_alive(deployed.pid) else None


def roll_out(
    target: Deployed,
    timeout_s: float,
    source_home: Path,
    predictions: str | Path,
    check: Callable[[str], None],
) -> tuple[Deployed, bool]:
    """Serve ``target`` beside the live server and `check` it; returns (deployed, changed).

    Only a new server that started and passed the check replaces the live one (state file
    first, then the old process stops). Otherwise the new one is stopped and the live one never
    noticed: a failed deploy leaves the environment serving as before, without a gap.
    """
    from lifecycle.serving import server

    running = current(target.environment)
    if running and running.bento_tag == target.bento_tag and server.is_ready(running.url):
        check(running.url)
        return running, False
    install(target.bento_tag, source_home)
    port = target.port
    if running or not _port_free(target.host, port):
        port = server.free_port(target.host)
    deployed = _start(replace(target, port=port), timeout_s, predictions)
    try:
        check(deployed.url)
    except BaseException:
        _kill(deployed.pid)
        raise
    _save(deployed)
    if running:
        _kill(running.pid)
    return deployed, True


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def install(bento_tag: str, source_home: Path) -> None:
    """Copy the Bento from the build's store into the deploy store (export, then import),
    unless it is there with intact models; a tampered copy is removed and imported afresh."""
    home = deploy_home()
    store.discard(home, bento_tag)  # BentoML would keep a model it already has, tampered or not
    if store.bento_dir(home, bento_tag).is_dir():
        return
    home.mkdir(parents=True, exist_ok=True)
    name, _, version = bento_tag.partition(":")
    exported = state_dir() / f"{name}-{version}.bento"
    try:
        _bentoml(source_home, "export", bento_tag, str(exported))
        _bentoml(home, "import", str(exported))
    finally:
        exported.unlink(missing_ok=True)
    if store.discard(home, bento_tag):
        store.check(source_home, bento_tag)  # names the build store's tampered model
        raise store.TamperedBento(
            f"the Bento {bento_tag} imported into {home} has a model whose files differ from the "
            "build's: removed again. Rebuild the Bento from the registered model version "
            "(`lifecycle build`)"
        )


def _bentoml(home: Path, *args: str) -> None:
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    command = [sys.executable, "-m", "bentoml", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LifecycleError(
            f"`bentoml {' '.join(args)}` failed (BENTOML_HOME={home}): "
            f"{(done.stderr or done.stdout).strip()[-1500:]}"
        )


def runtime(bento_tag: str) -> Path:
    """The interpreter of a virtualenv holding the Bento's locked requirements, made once per
    distinct requirements under the state folder (``runtimes/<sha256 prefix>``) with uv.

    A lock serialises deploys making the same one; a ``complete`` marker, written last, tells a
    finished runtime from one an interrupted deploy left half-made (which is made again)."""
    from lifecycle.serving.bento import find_uv

    requirements = store.bento_dir(deploy_home(), bento_tag) / "env" / "python" / "requirements.txt"
    if not requirements.is_file():
        raise LifecycleError(
            f"the Bento {bento_tag} has no {requirements.relative_to(deploy_home())}: rebuild it "
            "with `lifecycle build`, which records the locked requirements"
        )
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    folder = state_dir() / "runtimes" / digest
    python = folder / "bin" / "python"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "complete").is_file():
            return python
        shutil.rmtree(folder, ignore_errors=True)
        print(f"making the serving runtime {folder} (the Bento's locked requirements)", flush=True)
        uv = find_uv()
        _run([uv, "venv", "--quiet", "--python", sys.executable, str(folder)])
        _run([uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements)])
        (folder / "complete").write_text(requirements.read_text(encoding="utf-8"), encoding="utf-8")
    return python


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LifecycleError(
            f"making the serving runtime failed: `{' '.join(command[1:3])}` exited with "
            f"{done.returncode}: {(done.stderr or done.stdout).strip()[-1500:]}"
        )


def _start(target: Deployed, timeout_s: float, predictions: str | Path) -> Deployed:
    """Start and wait until ready; the state file is not touched (``_save`` switches)."""
    from lifecycle.serving import server

    log = state_dir() / f"{target.environment}-{target.port}.log"
    python = runtime(target.bento_tag)
    with _bentoml_home(deploy_home()):
        started = server.start(
            target.bento_tag, target.host, target.port, log, predictions,
            python=python, cwd=state_dir(),
        )  # fmt: skip
    try:
        server.wait_ready(started, timeout_s)
    except BaseException:
        server.stop(started)
        raise
    return replace(target, pid=started.process.pid, log=str(log))


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
    """Stop the environment's server and forget it."""
    _kill(deployed.pid)
    (state_dir() / f"{deployed.environment}.json").unlink(missing_ok=True)


def _kill(pid: int) -> None:
    """Stop a server's whole process group (BentoML runs workers): TERM, then KILL."""
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if process_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _save(deployed: Deployed) -> None:
    path = state_dir() / f"{deployed.environment}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(deployed)), encoding="utf-8")
    partial.replace(path)
