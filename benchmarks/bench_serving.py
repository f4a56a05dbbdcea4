"""Benchmark: serving one model, beside its baselines, all measured in one run.

(a) raw ``predict_proba`` in this process on 1, 100 and 1000 rows: the model's own rate;
(b) baselines for single-record requests: a bare FastAPI endpoint, sync and async, calling
    predict_proba once per request, and a BentoML service that answers a constant (the
    framework's ceiling, ``benchmarks/noop_service.py``);
(c) our Bento without adaptive batching (``serving.max_batch_size: 1``) and with it;
(d) ``/predict_batch`` with 1000-record requests from 4 connections (rows per second), and the
    split of one such request's time by stage (``benchmarks/serving_split.py``);
(e) ``/predict`` at the most users with 1 and 2 worker processes (``serving.workers``), side by
    side: the same Bento but for its worker count.

Single-record POSTs come from 1, 10 and 50 concurrent users (a closed-loop load generator,
``benchmarks/loadgen.py``, in its own process, on the same cores). Goals, each printed beside its
figure and its baseline: /predict_batch at >= 80,000 rows/s and >= 60 % of the model's own
rate; /predict at 50 users >= 90 % of the no-op Bento's requests per second, and >= 2x the bare
endpoint's. No thresholds are asserted.

    uv run python benchmarks/bench_serving.py [--rows 20000] [--duration 10] [--users 1,10,50]

Everything (MLflow store, BentoML store, data) lives in a temporary folder: the model is trained
with params.yaml's settings on generated data, registered and built three times with the real
CLI. Servers run one worker each (but in (e)) with OMP_NUM_THREADS=1, as the service sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # serving_split, when run as a script from anywhere
BARE, ASYNC, NOOP, OURS = ("bare FastAPI", "FastAPI, async", "BentoML no-op (ceiling)",
                           "Bento, adaptive batching")  # fmt: skip
BATCH, BATCH_USERS = 1000, 4  # records per /predict_batch request, connections
WORKERS = (1, 2)  # (e): serving.workers compared
GOAL_ROWS, GOAL_MODEL_SHARE, GOAL_CEILING_SHARE, GOAL_BARE_X = 80_000, 0.60, 0.90, 2.0


def cli(work: Path, env: dict[str, str], *args: str) -> dict[str, str]:
    """Run a lifecycle verb in its own process; its GitHub outputs."""
    outputs = work / "outputs.txt"
    outputs.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "lifecycle", *args],
        cwd=work,
        env={**env, "GITHUB_OUTPUT": str(outputs)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"lifecycle {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    lines = outputs.read_text().splitlines() if outputs.exists() else []
    return {lines[i].split("<<")[0]: lines[i + 1] for i in range(0, len(lines), 3)}


def prepare(work: Path, rows: int) -> tuple[dict[str, str], dict[str, str], Path]:
    """Data, a trained and registered model, three Bentos: {"batching": tag, "no batching": tag,
    "2 workers": tag}; all but the last serve with one worker."""
    from lifecycle.data.dataset import write_table
    from lifecycle.data.generator import generate

    data = write_table(generate(rows, 42), work / "data" / "credit.parquet")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["data"]["path"] = str(data)
    raw["gates"]["data"]["contract"] = str(ROOT / raw["gates"]["data"]["contract"])
    raw["serving"]["workers"] = 1
    params = work / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    raw["serving"]["workers"] = WORKERS[1]
    several = work / "params-workers.yaml"
    several.write_text(yaml.safe_dump(raw))
    raw["serving"]["workers"] = 1
    raw["serving"]["max_batch_size"] = 1
    single = work / "params-no-batching.yaml"
    single.write_text(yaml.safe_dump(raw))
    uri = f"sqlite:///{work}/mlflow.db"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri,
           "BENTOML_HOME": str(work / "bentoml"), "BENTOML_DO_NOT_TRACK": "True",
           "GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": ""}  # fmt: skip
    bentofile = str(ROOT / "bentofile.yaml")
    print(f"training on {rows} generated rows, registering, building three Bentos…", flush=True)
    cli(work, env, "train", "--params", str(params))
    cli(work, env, "register", "--params", str(params))
    tags = {
        "no batching": cli(work, env, "build", "--params", str(single), "--bentofile", bentofile),
        f"{WORKERS[1]} workers": cli(
            work, env, "build", "--params", str(several), "--bentofile", bentofile
        ),
        "batching": cli(work, env, "build", "--params", str(params), "--bentofile", bentofile),
    }
    sha = tags["batching"]["model-sha256"][:12]
    (model_dir,) = (work / "bentoml" / "models").glob(f"*/*{sha}/mlflow")
    return env, {name: out["bento-tag"] for name, out in tags.items()}, model_dir


def load_model(model_dir: Path):
    import mlflow.sklearn

    from lifecycle.registry.models import trusted_models

    with trusted_models():
        return mlflow.sklearn.load_model(str(model_dir))


def raw_floor(model, records: list[dict]) -> list[tuple[str, float, float]]:
    """(case, ms per call, ms per row) for predict_proba on 1, 100 and 1000 rows."""
    import pandas as pd
    from serving_split import median_ms

    frame = pd.DataFrame(records)
    out = []
    for size, repeats in ((1, 200), (100, 50), (1000, 20)):
        batch = frame.iloc[:size]
        per_call = median_ms(lambda batch=batch: model.predict_proba(batch), repeats)
        out.append((f"predict_proba, {size} row(s)", per_call, per_call / size))
    return out


@contextmanager
def process(command: list[str], env: dict[str, str], url: str, probe: str) -> Iterator[str]:
    """A server process for the block, ready when ``url + probe`` answers; stopped after."""
    started = subprocess.Popen(command, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _answers(url + probe) and time.monotonic() < deadline:
            if started.poll() is not None:
                raise SystemExit(f"{' '.join(command[:5])}… exited ({started.returncode})")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(started.pid, signal.SIGTERM)
        started.wait(20)


def bare_fastapi(env: dict[str, str], model_dir: Path, port: int):
    command = [sys.executable, "-m", "uvicorn", "bare_fastapi:app", "--app-dir", str(HERE),
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    env = {**env, "BENCH_MODEL_DIR": str(model_dir)}
    return process(command, env, f"http://127.0.0.1:{port}", "/docs")


def noop_bento(env: dict[str, str], port: int):
    command = [sys.executable, "-m", "bentoml", "serve", "noop_service:Noop", "--working-dir",
               str(HERE), "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return process(command, env, f"http://127.0.0.1:{port}", "/readyz")


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def bento(env: dict[str, str], tag: str, work: Path) -> Iterator[str]:
    from lifecycle.serving import server

    log = work / f"{tag.replace(':', '-')}.log"
    with server.running(tag, "127.0.0.1", 0, log, 180, work / "predictions", env=env) as running:
        yield running.url


def load(url: str, records: Path, users: int, duration: float, path: str = "/predict") -> dict:
    command = [sys.executable, str(HERE / "loadgen.py"), "--url", url, "--records", str(records),
               "--users", str(users), "--duration", str(duration), "--warmup", "3",
               "--path", path]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000, help="generated training rows")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--users", default="1,10,50", help="concurrent users, comma-separated")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"  # before scikit-learn loads OpenMP, as in the service
    levels = [int(u) for u in args.users.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    try:
        return measure(work, args, levels)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(work: Path, args: argparse.Namespace, levels: list[int]) -> int:
    env, tags, model_dir = prepare(work, args.rows)

    from serving_split import split

    from lifecycle.serving.payloads import random_record
    from lifecycle.serving.spec import ServingSpec, request_model

    bento_yaml = next((work / "bentoml" / "bentos").glob("*/*/bento.yaml"))  # any: same schema
    spec = ServingSpec.model_validate(yaml.safe_load(bento_yaml.read_text())["args"])
    schema = request_model(spec.features).model_json_schema()
    rng = random.Random(1)
    rows = [random_record(schema, rng) for _ in range(1000)]
    records = work / "records.json"
    records.write_text(json.dumps(rows))
    batches = [{"records": [random_record(schema, rng) for _ in range(BATCH)]} for _ in range(8)]
    (work / "batches.json").write_text(json.dumps(batches))

    model = load_model(model_dir)
    floor = raw_floor(model, rows)
    stages = split(spec, model, json.dumps(batches[0]).encode())
    results: list[tuple[str, int, dict]] = []
    targets = [
        (BARE, lambda: bare_fastapi(env, model_dir, free_port()), "/predict"),
        (ASYNC, lambda: bare_fastapi(env, model_dir, free_port()), "/predict_async"),
        (NOOP, lambda: noop_bento(env, free_port()), "/predict"),
        ("Bento, no batching", lambda: bento(env, tags["no batching"], work), "/predict"),
        (OURS, lambda: bento(env, tags["batching"], work), "/predict"),
    ]
    batch = {}
    for name, start, path in targets:
        print(f"measuring {name}…", flush=True)
        with start() as url:
            for users in levels:
                results.append((name, users, load(url, records, users, args.duration, path)))
            if name == OURS:
                batch = load(url, work / "batches.json", BATCH_USERS, args.duration,
                             "/predict_batch")  # fmt: skip
    top = max(levels)
    workers = {WORKERS[0]: next(r for n, u, r in results if n == OURS and u == top)}
    print(f"measuring {OURS}, {WORKERS[1]} workers…", flush=True)
    with bento(env, tags[f"{WORKERS[1]} workers"], work) as url:
        workers[WORKERS[1]] = load(url, records, top, args.duration)
    report(floor, stages, results, batch, levels)
    report_workers(workers, top)
    return 0


def free_port() -> int:
    from lifecycle.serving.server import free_port as pick

    return pick()


def report(floor, stages, results, batch, levels) -> None:
    print("\n## Serving benchmark (one model, one worker, load generator on the same cores)\n")
    print("| (a) floor | ms per call | ms per row |\n|---|---:|---:|")
    for case, per_call, per_row in floor:
        print(f"| {case} | {per_call:.2f} | {per_row:.4f} |")
    print("\n| (b, c) single records: target | users | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, users, r in results:
        print(f"| {name} | {users} | {r['rps']} | {r['p50']} | {r['p95']} | {r['p99']} | "
              f"{r['errors']} |")  # fmt: skip
    total = sum(ms for _, ms in stages)
    print(f"\n| (d) one {BATCH}-record request, by stage | ms | share |\n|---|---:|---:|")
    for stage, ms in stages:
        print(f"| {stage} | {ms:.2f} | {ms / total:.0%} |")
    print(f"| sum (HTTP and BentoML come on top) | {total:.2f} | 100% |")
    goals(floor, results, batch, max(levels))


def goals(floor, results, batch, top: int) -> None:
    """Each goal beside its figure and the baseline measured in this run."""
    at = {name: r for name, users, r in results if users == top}
    model_rows = 1000 / floor[-1][1] * 1000  # rows/s of predict_proba on 1000 rows
    rows = batch.get("rps", 0.0) * BATCH
    ours, noop = at.get(OURS, {}).get("rps", 0.0), at.get(NOOP, {}).get("rps", 0.0)
    print("\n| figure | value | goal | baseline (this run) | share of baseline |")
    print("|---|---:|---|---|---:|")
    print(
        f"| /predict_batch, {BATCH} records, {BATCH_USERS} connections | {rows:,.0f} rows/s | "
        f">= {GOAL_ROWS:,} rows/s, >= {GOAL_MODEL_SHARE:.0%} of the model | "
        f"model alone: {model_rows:,.0f} rows/s | {_share(rows, model_rows)} |"
    )
    print(
        f"| /predict, {top} users | {ours} req/s | >= {GOAL_CEILING_SHARE:.0%} of the ceiling | "
        f"{NOOP}: {noop} req/s | {_share(ours, noop)} |"
    )
    for name in (ASYNC, BARE):
        other = at.get(name, {}).get("rps", 0.0)
        print(
            f"| /predict, {top} users | {ours} req/s | >= {GOAL_BARE_X:g}x a FastAPI endpoint | "
            f"{name}: {other} req/s | {_share(ours, other)} |"
        )
    print()
    for name, met in (
        (f"/predict_batch >= {GOAL_ROWS:,} rows/s", rows >= GOAL_ROWS),
        (
            f"/predict_batch >= {GOAL_MODEL_SHARE:.0%} of the model",
            rows >= GOAL_MODEL_SHARE * model_rows,
        ),
        (f"/predict >= {GOAL_CEILING_SHARE:.0%} of the ceiling", ours >= GOAL_CEILING_SHARE * noop),
    ):
        print(f"{name}: {'met' if met else 'NOT met'}")


def report_workers(workers: dict[int, dict], users: int) -> None:
    """(e): /predict at ``users`` users, one column per worker count."""
    counts = sorted(workers)
    print(f"\n| (e) /predict, {users} users, by serving.workers | "
          + " | ".join(f"{n} worker{'s' * (n > 1)}" for n in counts) + " |")  # fmt: skip
    print("|---|" + "---:|" * len(counts))
    for key, label in (("rps", "req/s"), ("p50", "p50 ms"), ("p95", "p95 ms"),
                       ("p99", "p99 ms"), ("errors", "errors")):  # fmt: skip
        print(f"| {label} | " + " | ".join(str(workers[n][key]) for n in counts) + " |")
    base = workers[counts[0]]["rps"]
    print(f"| req/s vs {counts[0]} worker | "
          + " | ".join(_share(workers[n]["rps"], base) for n in counts) + " |")  # fmt: skip


def _share(value: float, baseline: float) -> str:
    return f"{value / baseline:.0%}" if baseline else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
