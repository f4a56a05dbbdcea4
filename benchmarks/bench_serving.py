"""Benchmark: serving one model four ways, side by side in one run.

(a) raw ``predict_proba`` in this process: single rows, batches of 100 and of 1000 (the floor);
(b) a bare FastAPI/uvicorn endpoint calling predict_proba once per request;
(c) our Bento without adaptive batching (``serving.max_batch_size: 1``) and with it.

Each server gets single-record POSTs from 1, 10 and 50 concurrent users (a closed-loop load
generator, ``benchmarks/loadgen.py``, in its own process) and the table reports requests per
second and p50/p95/p99 latency. Goal: at 50 users the Bento serves at least 2x the bare
endpoint's throughput with a p95 no worse. No thresholds are asserted.

    uv run python benchmarks/bench_serving.py [--rows 20000] [--duration 10] [--users 1,10,50]

Everything (MLflow store, BentoML store, data) lives in a temporary folder: the model is trained
with params.yaml's settings on generated data, registered and built twice with the real CLI.
Servers run one worker each with OMP_NUM_THREADS=1, as the service sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
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
    """Data, a trained and registered model, two Bentos: {"batching": tag, "no batching": tag}."""
    from lifecycle.data import write_table
    from lifecycle.datagen import generate

    data = write_table(generate(rows, 42), work / "data" / "credit.parquet")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["data"]["path"] = str(data)
    raw["gates"]["data"]["contract"] = str(ROOT / raw["gates"]["data"]["contract"])
    params = work / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    raw["serving"]["max_batch_size"] = 1
    single = work / "params-no-batching.yaml"
    single.write_text(yaml.safe_dump(raw))
    uri = f"sqlite:///{work}/mlflow.db"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri,
           "BENTOML_HOME": str(work / "bentoml"), "BENTOML_DO_NOT_TRACK": "True",
           "GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": ""}  # fmt: skip
    bentofile = str(ROOT / "bentofile.yaml")
    print(f"training on {rows} generated rows, registering, building two Bentos…", flush=True)
    cli(work, env, "train", "--params", str(params))
    cli(work, env, "register", "--params", str(params))
    tags = {
        "no batching": cli(work, env, "build", "--params", str(single), "--bentofile", bentofile),
        "batching": cli(work, env, "build", "--params", str(params), "--bentofile", bentofile),
    }
    sha = tags["batching"]["model-sha256"][:12]
    (model_dir,) = (work / "bentoml" / "models").glob(f"*/*{sha}/mlflow")
    return env, {name: out["bento-tag"] for name, out in tags.items()}, model_dir


def raw_floor(model_dir: Path, records: list[dict]) -> list[tuple[str, float, float]]:
    """(case, ms per call, ms per row) for predict_proba on 1, 100 and 1000 rows."""
    import mlflow.sklearn
    import pandas as pd

    from lifecycle.registry import trusted_models

    with trusted_models():
        model = mlflow.sklearn.load_model(str(model_dir))
    frame = pd.DataFrame(records)
    out = []
    for size, repeats in ((1, 200), (100, 50), (1000, 10)):
        batch = frame.iloc[:size]
        model.predict_proba(batch)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            model.predict_proba(batch)
            times.append(time.perf_counter() - started)
        per_call = statistics.median(times) * 1000
        out.append((f"predict_proba, {size} row(s)", per_call, per_call / size))
    return out


@contextmanager
def bare_fastapi(env: dict[str, str], model_dir: Path, port: int) -> Iterator[str]:
    command = [sys.executable, "-m", "uvicorn", "bare_fastapi:app", "--app-dir", str(HERE),
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env={**env, "BENCH_MODEL_DIR": str(model_dir)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _answers(url) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/docs", timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def bento(env: dict[str, str], tag: str, work: Path) -> Iterator[str]:
    from lifecycle.serving import server

    log = work / f"{tag.replace(':', '-')}.log"
    with server.running(tag, "127.0.0.1", 0, log, 180, work / "predictions", env=env) as running:
        yield running.url


def load(url: str, records: Path, users: int, duration: float) -> dict:
    command = [sys.executable, str(HERE / "loadgen.py"), "--url", url, "--records", str(records),
               "--users", str(users), "--duration", str(duration), "--warmup", "3"]  # fmt: skip
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

    from lifecycle.serving.payloads import random_record
    from lifecycle.serving.spec import ServingSpec, request_model

    bento_yaml = next((work / "bentoml" / "bentos").glob("*/*/bento.yaml"))
    spec = ServingSpec.model_validate(yaml.safe_load(bento_yaml.read_text())["args"])
    schema = request_model(spec.features).model_json_schema()
    rng = random.Random(1)
    rows = [random_record(schema, rng) for _ in range(1000)]
    records = work / "records.json"
    records.write_text(json.dumps(rows))

    floor = raw_floor(model_dir, rows)
    results: list[tuple[str, int, dict]] = []
    targets = [
        ("bare FastAPI", lambda: bare_fastapi(env, model_dir, free_port())),
        ("Bento, no batching", lambda: bento(env, tags["no batching"], work)),
        ("Bento, adaptive batching", lambda: bento(env, tags["batching"], work)),
    ]
    for name, start in targets:
        print(f"measuring {name}…", flush=True)
        with start() as url:
            for users in levels:
                results.append((name, users, load(url, records, users, args.duration)))
    report(floor, results, levels)
    return 0


def free_port() -> int:
    from lifecycle.serving.server import free_port as pick

    return pick()


def report(
    floor: list[tuple[str, float, float]], results: list[tuple[str, int, dict]], levels: list[int]
) -> None:
    print("\n## Serving benchmark (one model, single-record requests)\n")
    print("| (a) floor | ms per call | ms per row |\n|---|---:|---:|")
    for case, per_call, per_row in floor:
        print(f"| {case} | {per_call:.2f} | {per_row:.4f} |")
    print("\n| target | users | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, users, r in results:
        print(f"| {name} | {users} | {r['rps']} | {r['p50']} | {r['p95']} | {r['p99']} | "
              f"{r['errors']} |")  # fmt: skip
    top = max(levels)
    at = {name: r for name, users, r in results if users == top}
    bare, ours = at.get("bare FastAPI"), at.get("Bento, adaptive batching")
    if bare and ours and bare["rps"]:
        print(
            f"\nAt {top} users: Bento with adaptive batching {ours['rps'] / bare['rps']:.1f}x the "
            f"bare endpoint's throughput; p95 {ours['p95']} ms vs {bare['p95']} ms. "
            "Goal: >= 2x, p95 no worse."
        )


if __name__ == "__main__":
    raise SystemExit(main())
