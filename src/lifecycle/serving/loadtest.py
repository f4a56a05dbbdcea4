"""The load-test gate: Locust, headless, in its own process, against a served Bento.

Locust runs ``lifecycle/locustfile.py`` for ``gates.loadtest.duration_s`` seconds with
``users`` users spawned at ``spawn_rate`` per second, and writes ``reports/loadtest_*.csv`` and
``reports/loadtest.html``. The gate reads the aggregated row of the stats CSV and checks three
thresholds from params.yaml: the 95th percentile latency (``p95_ms``), the error rate
(``max_error_rate``: valid requests not answered 200, invalid ones not answered 4xx) and the
throughput (``min_rps``).
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lifecycle
from lifecycle.errors import LifecycleError
from lifecycle.gates.result import GateReport, GateResult
from lifecycle.serving.payloads import random_record
from lifecycle.settings import LoadTestGate

GATE = "loadtest"
CSV_PREFIX = "loadtest"
LOCUSTFILE = Path(lifecycle.__file__).parent / "locustfile.py"
STARTUP_GRACE_S = 60  # Locust's own start and stop, on top of the run time


@dataclass(frozen=True)
class LoadStats:
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 1.0


def run_locust(url: str, gate: LoadTestGate, out_dir: Path) -> LoadStats:
    """Run the locustfile against ``url``; the aggregated statistics."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
        "--users", str(gate.users), "--spawn-rate", f"{gate.spawn_rate:g}",
        "--run-time", f"{gate.duration_s:g}s", "--stop-timeout", "5",
        "--csv", str(out_dir / CSV_PREFIX), "--html", str(out_dir / f"{CSV_PREFIX}.html"),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    env = {**os.environ, "LIFECYCLE_INVALID_SHARE": f"{gate.invalid_share:g}"}
    timeout = gate.duration_s + STARTUP_GRACE_S
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LifecycleError(f"Locust did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        raise LifecycleError(
            f"Locust failed (exit {done.returncode}): {(done.stderr or done.stdout)[-2000:]}"
        )
    return read_stats(out_dir / f"{CSV_PREFIX}_stats.csv")


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
    load = {"users": gate.users, "duration_s": gate.duration_s, "requests": stats.requests}
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
        f"Locust's CSV and HTML reports: `{CSV_PREFIX}_stats.csv`, `{CSV_PREFIX}.html`."
    )
    return GateReport(GATE, gate.mode, results, note)
