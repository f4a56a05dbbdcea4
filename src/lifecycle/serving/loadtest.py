"""The load-test gate: Locust, headless, in its own process, against a served Bento.

Locust runs ``lifecycle/serving/locustfile.py`` for ``gates.loadtest.duration_s`` seconds with
``users`` users spawned at ``spawn_rate`` per second, and writes ``reports/loadtest_*.csv`` and
``reports/loadtest.html``. The gate reads the aggregated row of the stats CSV and checks three
thresholds from params.yaml: the 95th percentile latency (``p95_ms``), the error rate
(``max_error_rate``: valid requests not answered 200, invalid ones not answered 4xx) and the
throughput (``min_rps``).

With ``gates.loadtest.workers`` above 0, Locust runs distributed on this host: a master (it
spawns no user itself) and that many worker processes on loopback. The master merges the
workers' statistics into the same CSV, and counts each worker's requests
(``reports/loadtest_workers.json``), which the gate's report shows. For workers on other
machines, run Locust yourself and judge its CSV with ``lifecycle loadtest --stats``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import random
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.errors import LifecycleError
from lifecycle.gates.result import GateReport, GateResult
from lifecycle.serving.payloads import random_record
from lifecycle.settings import LoadTestGate

GATE = "loadtest"
CSV_PREFIX = "loadtest"
LOCUSTFILE = Path(__file__).parent / "locustfile.py"
STARTUP_GRACE_S = 60  # Locust's own start and stop, on top of the run time
LOOPBACK = "127.0.0.1"  # where the master listens for its workers


@dataclass(frozen=True)
class LoadStats:
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_worker: tuple[int, ...] = ()  # requests each Locust worker sent (distributed runs)

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 1.0


def run_locust(url: str, gate: LoadTestGate, out_dir: Path) -> LoadStats:
    """Run the locustfile against ``url``, in one process or as a master with ``gate.workers``
    workers on loopback; the aggregated (for workers: merged) statistics."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
        "--users", str(gate.users), "--spawn-rate", f"{gate.spawn_rate:g}",
        "--run-time", f"{gate.duration_s:g}s", "--stop-timeout", "5",
        "--csv", str(out_dir / CSV_PREFIX), "--html", str(out_dir / f"{CSV_PREFIX}.html"),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    env = {**os.environ, "LIFECYCLE_INVALID_SHARE": f"{gate.invalid_share:g}"}
    if not gate.workers:
        _run(command, env, gate.duration_s + STARTUP_GRACE_S)
        return read_stats(out_dir / f"{CSV_PREFIX}_stats.csv")
    return _run_distributed(command, env, gate, out_dir)


def _run_distributed(
    command: list[str], env: dict[str, str], gate: LoadTestGate, out_dir: Path
) -> LoadStats:
    """``command`` as the master of ``gate.workers`` workers; the merged statistics and the
    requests each worker sent, as the master counted them."""
    report = out_dir / f"{CSV_PREFIX}_workers.json"
    report.unlink(missing_ok=True)
    env = {**env, "LIFECYCLE_WORKERS_REPORT": str(report)}
    port = str(_free_port())
    master = [
        *command, "--master", "--master-bind-host", LOOPBACK, "--master-bind-port", port,
        "--expect-workers", str(gate.workers), "--expect-workers-max-wait", str(STARTUP_GRACE_S),
    ]  # fmt: skip
    worker = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
        "--master-host", LOOPBACK, "--master-port", port, "--loglevel", "WARNING",
    ]  # fmt: skip
    with _workers(worker, env, gate.workers, out_dir):
        _run(master, env, gate.duration_s + 2 * STARTUP_GRACE_S)
    stats = read_stats(out_dir / f"{CSV_PREFIX}_stats.csv")
    return dataclasses.replace(stats, per_worker=read_workers(report))


def _run(command: list[str], env: dict[str, str], timeout: float) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LifecycleError(f"Locust did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        raise LifecycleError(
            f"Locust failed (exit {done.returncode}): {(done.stderr or done.stdout)[-2000:]}"
        )


@contextlib.contextmanager
def _workers(command: list[str], env: dict[str, str], count: int, out_dir: Path) -> Iterator[None]:
    """``count`` Locust workers, each logging to ``loadtest_worker_<n>.log``; always stopped."""
    processes = []
    try:
        for number in range(1, count + 1):
            with (out_dir / f"{CSV_PREFIX}_worker_{number}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
        yield
    finally:
        for process in processes:  # the master's quit stops them; this is for a failed run
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def read_workers(path: Path) -> tuple[int, ...]:
    """Requests per worker, as the master counted them (largest first)."""
    try:
        counts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LifecycleError(f"the Locust master wrote no worker report ({path}): {exc}") from None
    return tuple(sorted((int(n) for n in counts.values()), reverse=True))


def smoke_prediction(url: str) -> dict[str, Any]:
    """One valid record to ``/predict``: the answer, which must name the served version."""
    try:
        meta = _json(urllib.request.Request(f"{url}/metadata"))  # noqa: S310
        record = random_record(meta["request_schema"], random.Random(0))  # noqa: S311
        body = json.dumps(record).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        answer = _json(urllib.request.Request(f"{url}/predict", body, headers))  # noqa: S310
    except (OSError, ValueError, KeyError) as exc:
        raise LifecycleError(f"smoke prediction against {url} failed: {exc}") from None
    if str(answer.get("model_version")) != str(meta["model_version"]):
        raise LifecycleError(f"smoke prediction: the answer names no model version: {answer}")
    return answer


def _json(request: urllib.request.Request) -> dict[str, Any]:
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (our server's URL)
        return json.loads(answer.read())


def read_stats(path: Path) -> LoadStats:
    """The 'Aggregated' row of a Locust stats CSV."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise LifecycleError(f"Locust wrote no statistics ({path}): {exc}") from None
    total = next((row for row in rows if row.get("Name") == "Aggregated"), None)
    if total is None:
        raise LifecycleError(f"{path}: no 'Aggregated' row; Locust sent no request")
    return LoadStats(
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        rps=_number(total["Requests/s"]),
        p50_ms=_number(total["50%"]),
        p95_ms=_number(total["95%"]),
        p99_ms=_number(total["99%"]),
    )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # Locust writes "N/A" when there was no request
        return float("nan")


def evaluate(stats: LoadStats, gate: LoadTestGate) -> GateReport:
    """The three threshold checks as one gate report."""
    load: dict[str, Any] = {
        "users": gate.users,
        "duration_s": gate.duration_s,
        "requests": stats.requests,
    }
    if stats.per_worker:
        load["requests_per_worker"] = list(stats.per_worker)
    results = (
        GateResult(
            "p95 latency", "p95_ms", stats.p95_ms, gate.p95_ms, stats.p95_ms <= gate.p95_ms,
            {"message": f"p50 {stats.p50_ms:g} ms, p99 {stats.p99_ms:g} ms", **load},
        ),
        GateResult(
            "error rate", "error_rate", round(stats.error_rate, 6), gate.max_error_rate,
            stats.requests > 0 and stats.error_rate <= gate.max_error_rate,
            {"message": f"{stats.failures} of {stats.requests} requests failed", **load},
        ),
        GateResult(
            "throughput", "rps", round(stats.rps, 2), gate.min_rps, stats.rps >= gate.min_rps,
            {"message": f"{stats.requests} requests in {gate.duration_s:g} s", **load},
        ),
    )  # fmt: skip
    note = (
        f"{gate.users} users (spawn rate {gate.spawn_rate:g}/s) for {gate.duration_s:g} s, "
        f"{gate.invalid_share:.0%} invalid requests (expected to get a 4xx). "
        f"{_processes(stats, gate)}"
        f"Locust's CSV and HTML reports: `{CSV_PREFIX}_stats.csv`, `{CSV_PREFIX}.html`."
    )
    return GateReport(GATE, gate.mode, results, note)


def _processes(stats: LoadStats, gate: LoadTestGate) -> str:
    if not gate.workers:
        return "One Locust process. "
    sent = " + ".join(f"{n:,}" for n in stats.per_worker) or "none reported"
    return f"A Locust master and {gate.workers} workers (requests per worker: {sent}). "
