"""The serving host's side of target ``ssh``: run there as ``python3 hostctl.py VERB CONFIG ...``.

``lifecycle deploy`` copies this file to the host before every call, so the host always runs the
version that matches the client; it needs only the standard library (Python 3.8 or later) and
never imports the ``lifecycle`` package. CONFIG is one JSON argument (``ssh.Layout``): the
folders, ports and runtime. Each verb prints one JSON object on success; an expected failure is
one line ``error: ...`` on stderr and exit code 3, which the client reports as it is.

On the host, one environment's folder (``<dir>/<environment>``) holds::

    supervisord.conf   the supervisor of this environment (its socket and pid in run/)
    programs/          one supervisord program per running process: nginx, blue, green
    nginx/nginx.conf   nginx, owning the public port, run by supervisord in the foreground
    nginx/upstream.conf  where nginx sends traffic: rewritten, tested, then a graceful reload
    bentoml/           the BentoML store the servers run from
    incoming/          uploads in progress (removed once imported)
    logs/              supervisord, nginx (access log with the upstream of every request), slots
    predictions/       the servers' prediction logs
    state.json         which slot is live and which Bento each slot serves

Verbs: ``bootstrap`` (idempotent), ``status``, ``receive`` (an exported Bento on stdin: free space
checked first, sha256 checked on disk, then ``bentoml import``), ``start`` (a Bento in a slot,
waits for readiness), ``route`` (nginx's upstream: one slot, or two with weights), ``stop``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

SLOTS = ("blue", "green")
SLOT_MARKER = "LIFECYCLE_SLOT"
UPSTREAM = "lifecycle"
CHUNK = 1 << 20
POLL_S = 0.25
LOG_TAIL = 20
# nginx's access log: what the canary analysis reads (time, upstream, status, seconds, path)
LOG_FORMAT = "$msec $upstream_addr $status $upstream_response_time $request_method $uri"


class HostError(Exception):
    """An expected failure: printed as one line, exit code 3."""


class Layout:
    """The paths of one environment on this host, from the client's CONFIG."""

    def __init__(self, config: dict[str, Any]) -> None:
        base = Path(config["dir"]).expanduser()
        self.base = base if base.is_absolute() else Path.home() / base
        self.root = self.base / config["environment"]
        python = config.get("python") or str(self.base / "runtime" / "bin" / "python")
        self.python = Path(python).expanduser()
        self.own_runtime = not config.get("python")
        self.bin = self.python.parent
        self.listen = str(config["listen"])
        self.port = int(config["port"])
        self.slots = {SLOTS[index]: int(port) for index, port in enumerate(config["slot_ports"])}
        self.min_free_bytes = int(config["min_free_bytes"])
        self.timeout_s = float(config["timeout_s"])
        self.max_body_bytes = int(config["max_body_bytes"])
        self.prediction_log = str(config.get("prediction_log") or self.path("predictions"))

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @property
    def supervisord_conf(self) -> Path:
        return self.path("supervisord.conf")

    @property
    def public_url(self) -> str:
        host = "127.0.0.1" if self.listen in ("", "0.0.0.0", "*") else self.listen  # noqa: S104
        host = "[::1]" if host in ("::", "[::]") else host
        return f"http://{host}:{self.port}"


# --- the verbs ------------------------------------------------------------------------------


def bootstrap(layout: Layout) -> dict[str, Any]:
    """Prepare the host for this environment; a second run changes nothing and says so."""
    done: dict[str, str] = {}
    for folder in ("programs", "nginx", "bentoml", "incoming", "logs", "run", "predictions"):
        layout.path(folder).mkdir(parents=True, exist_ok=True)
    done["runtime"] = _runtime(layout, sys.stdin.read() if layout.own_runtime else "")
    nginx = _find_nginx()
    done["supervisord.conf"] = _write(layout.supervisord_conf, _supervisord_conf(layout))
    done["nginx.conf"] = _write(layout.path("nginx", "nginx.conf"), _nginx_conf(layout))
    if not layout.path("nginx", "upstream.conf").exists():
        done["upstream.conf"] = _write(layout.path("nginx", "upstream.conf"), _upstream({}))
    program = _program("nginx", [*_nginx_command(layout, nginx), "-g", "daemon off;"], layout, {})
    done["programs/nginx.conf"] = _write(layout.path("programs", "nginx.conf"), program)
    if not layout.path("state.json").exists():
        _save_state(layout, {"live": None, "slots": {}})
    if _supervisor_running(layout):
        _supervisorctl(layout, "reread")
        _supervisorctl(layout, "update")
        done["supervisord"] = "running"
    else:
        _start_supervisord(layout)
        done["supervisord"] = "started"
    _check([*_nginx_command(layout, nginx), "-t"], "nginx -t")
    if done["nginx.conf"] != "unchanged" and _state_of(layout, "nginx") == "RUNNING":
        _check([*_nginx_command(layout, nginx), "-s", "reload"], "nginx -s reload")
    _wait_program(layout, "nginx", 30)
    return {"root": str(layout.root), "done": done}


def status(layout: Layout) -> dict[str, Any]:
    """Bootstrapped or not, the live slot, each slot's Bento and readiness, the stored Bentos."""
    if not layout.supervisord_conf.exists() or not _supervisor_running(layout):
        return {"bootstrapped": False, "root": str(layout.root)}
    state = _load_state(layout)
    slots = {}
    for name, port in layout.slots.items():
        recorded = state["slots"].get(name) or {}
        running = _state_of(layout, name) == "RUNNING"
        ready = running and _ready(f"http://127.0.0.1:{port}")
        slots[name] = {**recorded, "port": port, "running": running, "ready": ready}
    return {
        "bootstrapped": True,
        "root": str(layout.root),
        "live": state.get("live"),
        "weights": state.get("weights"),
        "slots": slots,
        "bentos": _bentos(layout),
    }


def receive(layout: Layout, name: str, size: int, sha256: str) -> dict[str, Any]:
    """An exported Bento from stdin: space checked, written, its sha256 checked, imported."""
    _check_space(layout, size)
    incoming = layout.path("incoming")
    archive = incoming / f"{name}.bento"
    partial = incoming / f"{name}.bento.partial"
    try:
        with partial.open("wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, CHUNK)
    except OSError as exc:
        partial.unlink()
        if exc.errno == 28:  # ENOSPC
            raise HostError(
                f"disk full on the host while receiving the Bento ({exc.strerror}): free "
                "space on the "
                f"filesystem of {incoming}"
            ) from None
        raise
    found = _sha256(partial)
    if found != sha256:
        partial.unlink()
        raise HostError(
            "the Bento received ({} bytes) has sha256 {}, not {} as sent: the copy was "
            "corrupted on the way or on the host's disk; it was removed and nothing was "
            "imported. Deploy again; if it recurs, check the host's disk and network".format(
                partial.stat().st_size if partial.exists() else "?", found, sha256
            )
        )
    partial.replace(archive)
    try:
        done = _run(
            [str(layout.python), "-m", "bentoml", "import", str(archive)], _bento_env(layout)
        )
    finally:
        archive.unlink()
    if done.returncode != 0:
        raise HostError(f"bentoml import failed on the host: {_tail(done.stdout)}")
    return {"bentos": _bentos(layout)}


def start(layout: Layout, slot: str, bento_tag: str, version: str) -> dict[str, Any]:
    """Serve ``bento_tag`` in ``slot`` under supervisord; returns once it is ready."""
    port = layout.slots[slot]
    env = {**_bento_env(layout), "LIFECYCLE_PREDICTION_LOG": layout.prediction_log}
    command = [str(layout.python), str(layout.path("hostctl.py")), "serve",
               str(layout.path(slot)), bento_tag, str(port)]  # fmt: skip
    _write(layout.path("programs", slot + ".conf"), _program(slot, command, layout, env))
    state = _load_state(layout)
    state["slots"][slot] = {"bento_tag": bento_tag, "version": version}
    _save_state(layout, state)
    layout.path("logs", slot + ".log").write_text("")  # this start's log only
    _supervisorctl(layout, "reread")
    _supervisorctl(layout, "update", slot)  # a changed program is stopped, then started anew
    if _state_of(layout, slot) not in ("RUNNING", "STARTING", "BACKOFF"):
        _supervisorctl(layout, "start", slot)
    deadline = time.monotonic() + layout.timeout_s
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        if _state_of(layout, slot) in ("FATAL", "EXITED"):
            _stop(layout, slot)
            raise HostError(
                "the {} slot's server exited before it was ready: {}".format(
                    slot, _tail(_read(layout.path("logs", slot + ".log")))
                )
            )
        if _ready(url):
            return {"slot": slot, "port": port, "bento_tag": bento_tag}
        time.sleep(POLL_S)
    _stop(layout, slot)
    raise HostError(
        "the {} slot's server was not ready after {:g} s (serving.startup_timeout_s): {}".format(
            slot, layout.timeout_s, _tail(_read(layout.path("logs", slot + ".log")))
        )
    )


def route(layout: Layout, weights: dict[str, int], expect: str) -> dict[str, Any]:
    """Point nginx at ``weights`` (slot -> weight): tested, swapped in whole, reloaded gracefully.

    ``expect`` (a model version, or empty) is then awaited through the public port, so the call
    returns once the new workers serve it; on any failure the previous upstream is restored.
    """
    nginx = _find_nginx()
    upstream = layout.path("nginx", "upstream.conf")
    before = upstream.read_text()
    partial = upstream.with_name("upstream.conf.partial")
    partial.write_text(_upstream({layout.slots[s]: w for s, w in weights.items()}))
    partial.replace(upstream)  # atomic: nginx never reads half a file
    try:
        _check([*_nginx_command(layout, nginx), "-t"], "nginx -t")
        _check([*_nginx_command(layout, nginx), "-s", "reload"], "nginx -s reload")
        if expect:
            _await_version(layout.public_url, expect, 30)
    except HostError:
        upstream.write_text(before)
        _run([*_nginx_command(layout, nginx), "-s", "reload"])
        raise
    state = _load_state(layout)
    live = [s for s, w in weights.items() if w > 0]
    state["live"] = max(live, key=lambda s: weights[s]) if live else None
    state["weights"] = weights if len(live) > 1 else None
    _save_state(layout, state)
    return {"weights": weights}


def stop(layout: Layout, slot: str) -> dict[str, Any]:
    """Stop the slot's server and forget its program (the Bento stays in the store)."""
    _stop(layout, slot)
    state = _load_state(layout)
    state["slots"].pop(slot, None)
    _save_state(layout, state)
    return {"stopped": slot}


def _stop(layout: Layout, slot: str) -> None:
    layout.path("programs", slot + ".conf").unlink(missing_ok=True)
    _supervisorctl(layout, "reread")
    _supervisorctl(layout, "update", slot)  # a removed program is stopped and dropped
    _sweep(str(layout.path(slot)))


def serve(marker: str, bento_tag: str, port: str) -> None:
    """A slot's program, as supervisord runs it: ``bentoml serve`` in place of this process,
    after ending what a crashed run of the slot left behind.

    BentoML's workers run in sessions of their own, so when the server's main process is killed
    they live on, holding the slot's port (and answering with whatever they loaded). Every
    process of a slot carries LIFECYCLE_SLOT=<marker> in its environment; they are swept first.
    """
    _sweep(marker)
    os.environ[SLOT_MARKER] = marker
    command = [sys.executable, "-m", "bentoml", "serve", bento_tag,
               "--host", "127.0.0.1", "--port", port]  # fmt: skip
    os.execv(sys.executable, command)  # noqa: S606 (the runtime's own interpreter)


def _sweep(marker: str) -> None:
    """SIGKILL every process (of this user) whose environment names the slot ``marker``."""
    tag = (SLOT_MARKER + "=" + marker).encode() + b"\0"
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.name) != os.getpid() and tag in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
                found.append(entry)
        except (OSError, ValueError):
            continue  # gone meanwhile, or another user's
    deadline = time.monotonic() + 10
    while any(p.exists() and not _zombie(p) for p in found) and time.monotonic() < deadline:
        time.sleep(0.05)


def _zombie(proc: Path) -> bool:
    try:
        return ") Z " in (proc / "stat").read_text()
    except OSError:
        return True


# --- the runtime, supervisord and nginx -----------------------------------------------------


def _runtime(layout: Layout, requirements: str) -> str:
    """The Python with bentoml and supervisor: checked when configured, else made from the
    requirements sent (a virtual environment; remade only when the requirements change)."""
    if not layout.own_runtime:
        if not layout.python.exists():
            raise HostError(
                f"the runtime {layout.python} (deploy.ssh.python) does not exist on the host"
            )
        done = _run([str(layout.python), "-c", "import bentoml, supervisor"])
        if done.returncode != 0:
            raise HostError(
                f"the runtime {layout.python} (deploy.ssh.python) lacks bentoml or "
                f"supervisor: {_tail(done.stdout, 3)}"
            )
        return "configured"
    venv = layout.python.parent.parent
    marker = venv / "requirements.txt"
    if marker.exists() and marker.read_text() == requirements and layout.python.exists():
        return "unchanged"
    if not layout.python.exists():
        hint = "Debian and Ubuntu: `sudo apt-get install -y python3-venv`"
        _check([sys.executable, "-m", "venv", str(venv)], f"python3 -m venv ({hint})")
    (venv / "requirements.partial").write_text(requirements)
    _check(
        [str(layout.python), "-m", "pip", "install", "--quiet", "-r",
         str(venv / "requirements.partial")],
        "pip install (the runtime's locked requirements)",
    )  # fmt: skip
    (venv / "requirements.partial").replace(marker)
    return "installed"


def _supervisord_conf(layout: Layout) -> str:
    run, logs = layout.path("run"), layout.path("logs")
    return "\n".join([
        "; written by lifecycle deploy --bootstrap: one supervisord per environment",
        "[unix_http_server]",
        f"file={run}/supervisor.sock",
        "chmod=0700",
        "[supervisord]",
        f"logfile={logs}/supervisord.log",
        f"pidfile={run}/supervisord.pid",
        f"childlogdir={logs}",
        f"directory={layout.root}",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "[supervisorctl]",
        f"serverurl=unix://{run}/supervisor.sock",
        "[include]",
        "files = {}/*.conf".format(layout.path("programs")),
        "",
    ])  # fmt: skip


def _program(name: str, command: list[str], layout: Layout, env: dict[str, str]) -> str:
    """A supervisord program: started with supervisord, restarted whenever it exits."""
    quoted = " ".join(_quote(part) for part in command)
    lines = [
        f"[program:{name}]",
        "command={}".format(quoted.replace("%", "%%")),
        f"directory={layout.root}",
        "autostart=true",
        "autorestart=true",
        "startsecs=1",
        "startretries=3",
        "stopsignal=TERM",
        "stopwaitsecs=20",
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        "stdout_logfile={}".format(layout.path("logs", name + ".log")),
        "stdout_logfile_maxbytes=10MB",
        "stdout_logfile_backups=2",
    ]
    if env:
        pairs = ",".join('{}="{}"'.format(k, v.replace("%", "%%")) for k, v in env.items())
        lines.append("environment=" + pairs)
    return "\n".join(lines) + "\n"


def _quote(part: str) -> str:
    return '"{}"'.format(part.replace('"', '\\"')) if any(c in part for c in ' ";') else part


def _start_supervisord(layout: Layout) -> None:
    supervisord = layout.bin / "supervisord"
    _check([str(supervisord), "-c", str(layout.supervisord_conf)], "supervisord")
    deadline = time.monotonic() + 30
    while not _supervisor_running(layout):
        if time.monotonic() > deadline:
            raise HostError(
                "supervisord did not answer after 30 s: {}".format(
                    _tail(_read(layout.path("logs", "supervisord.log")))
                )
            )
        time.sleep(POLL_S)


def _supervisorctl(layout: Layout, *args: str) -> str:
    command = [str(layout.bin / "supervisorctl"), "-c", str(layout.supervisord_conf), *args]
    return _run(command).stdout


def _supervisor_running(layout: Layout) -> bool:
    if not (layout.bin / "supervisorctl").exists():
        return False
    done = _run([str(layout.bin / "supervisorctl"), "-c", str(layout.supervisord_conf), "pid"])
    return done.returncode == 0 and done.stdout.strip().isdigit()


def _state_of(layout: Layout, program: str) -> str:
    """supervisord's state of a program (RUNNING, STARTING, BACKOFF, FATAL, ...), or ''."""
    words = _supervisorctl(layout, "status", program).split()
    return words[1] if len(words) > 1 and words[0] == program else ""


def _wait_program(layout: Layout, program: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _state_of(layout, program) != "RUNNING":
        if time.monotonic() > deadline:
            raise HostError(
                "{} is not running under supervisord: {}".format(
                    program, _tail(_read(layout.path("logs", program + ".log")))
                )
            )
        time.sleep(POLL_S)


def _find_nginx() -> str:
    for folder in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/sbin", "/usr/local/sbin"]:
        candidate = Path(folder or ".") / "nginx"
        if candidate.is_file() and os.access(str(candidate), os.X_OK):
            return str(candidate)
    raise HostError("nginx is not installed on the host: `sudo apt-get install -y nginx`")


def _nginx_command(layout: Layout, nginx: str) -> list[str]:
    return [nginx, "-p", str(layout.path("nginx")), "-c", str(layout.path("nginx", "nginx.conf")),
            "-e", str(layout.path("logs", "nginx-error.log"))]  # fmt: skip


def _nginx_conf(layout: Layout) -> str:
    run, logs = layout.path("run"), layout.path("logs")
    temp = "\n".join(
        f"    {kind}_temp_path {run}/nginx-{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers as the deploy user, never nobody
    return """# written by lifecycle deploy --bootstrap; traffic goes where upstream.conf says
{user}worker_processes 1;
pid {run}/nginx.pid;
error_log {logs}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    log_format lifecycle '{log_format}';
    access_log {logs}/access.log lifecycle;
{temp}
    include {upstream};
    server {{
        listen {listen}:{port};
        client_max_body_size {body};
        location / {{
            proxy_pass http://{name};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Request-ID $request_id;
            proxy_read_timeout 120s;
        }}
    }}
}}
""".format(
        user=user,
        run=run,
        logs=logs,
        log_format=LOG_FORMAT,
        temp=temp,
        upstream=layout.path("nginx", "upstream.conf"),
        listen=layout.listen if ":" not in layout.listen else f"[{layout.listen}]",
        port=layout.port,
        body=layout.max_body_bytes * 2,  # the service answers too large bodies itself (413)
        name=UPSTREAM,
    )


def _upstream(weights: dict[int, int]) -> str:
    """nginx's upstream block: the ports that get traffic, with their weights."""
    servers = [f"    server 127.0.0.1:{p} weight={w};" for p, w in weights.items() if w]
    if not servers:  # nothing deployed yet: 502 until the first deploy
        servers = ["    server 127.0.0.1:9 down;"]
    return "upstream {} {{\n{}\n    keepalive 16;\n}}\n".format(UPSTREAM, "\n".join(servers))


# --- small helpers --------------------------------------------------------------------------


def _check_space(layout: Layout, size: int) -> None:
    """Room for the archive (incoming/) and its import (bentoml/), plus the margin, per disk."""
    needed: dict[int, int] = {}
    where: dict[int, Path] = {}
    for folder in (layout.path("incoming"), layout.path("bentoml")):
        device = folder.stat().st_dev
        needed[device] = needed.get(device, layout.min_free_bytes) + size
        where.setdefault(device, folder)
    for device, bytes_needed in needed.items():
        stats = os.statvfs(str(where[device]))
        free = stats.f_bavail * stats.f_frsize
        if free < bytes_needed:
            raise HostError(
                f"disk full on the host: {where[device]} has {_size(free)} free, the Bento "
                f"needs {_size(bytes_needed)} (archive and import, {size} bytes each, plus "
                "deploy.ssh.min_free_mb). Free space there; nothing was uploaded"
            )


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count} bytes"


def _bentos(layout: Layout) -> list[str]:
    store = layout.path("bentoml", "bentos")
    if not store.is_dir():
        return []
    return sorted(
        f"{version.parent.name}:{version.name}"
        for version in store.glob("*/*")
        if (version / "bento.yaml").is_file()
    )


def _bento_env(layout: Layout) -> dict[str, str]:
    return {"BENTOML_HOME": str(layout.path("bentoml")), "BENTOML_DO_NOT_TRACK": "True"}


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


def _await_version(url: str, version: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    served = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/metadata/", timeout=5) as answer:  # noqa: S310
                served = str(json.loads(answer.read()).get("model_version"))
        except (OSError, ValueError) as exc:
            served = repr(exc)
        if served == version:
            return
        time.sleep(POLL_S)
    raise HostError(
        f"after the switch, {url} serves {served} instead of version {version}: nginx's "
        "upstream was put "
        "back"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _write(path: Path, text: str) -> str:
    """Write ``text`` whole (a partial file, then a rename); created, updated or unchanged."""
    if path.exists() and path.read_text() == text:
        return "unchanged"
    existed = path.exists()
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)
    return "updated" if existed else "created"


def _load_state(layout: Layout) -> dict[str, Any]:
    path = layout.path("state.json")
    if not path.exists():
        raise HostError(
            f"{layout.root} is not prepared: run "
            f"`lifecycle deploy --env {layout.root.name} --bootstrap` once"
        )
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def _save_state(layout: Layout, state: dict[str, Any]) -> None:
    _write(layout.path("state.json"), json.dumps(state, indent=1, sort_keys=True))


def _run(command: list[str], env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def _check(command: list[str], what: str) -> None:
    done = _run(command)
    if done.returncode != 0:
        raise HostError(f"{what} failed on the host: {_tail(done.stdout)}")


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(text: str, lines: int = LOG_TAIL) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) if kept else "(no output)"


VERBS: dict[str, Callable[..., dict[str, Any]]] = {
    "bootstrap": bootstrap,
    "status": status,
    "receive": receive,
    "start": start,
    "route": route,
    "stop": stop,
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in (*VERBS, "serve"):
        print("usage: hostctl.py {} CONFIG [ARGS...]".format("|".join(VERBS)), file=sys.stderr)
        return 2
    if argv[0] == "serve":
        serve(*argv[1:])
    layout = Layout(json.loads(argv[1]))
    args: list[Any] = list(argv[2:])
    if argv[0] == "receive":
        args[1] = int(args[1])
    if argv[0] == "route":
        args[0] = {k: int(v) for k, v in json.loads(args[0]).items()}
    try:
        result = VERBS[argv[0]](layout, *args)
    except HostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
