"""Benchmark: the local pipeline's steps on the default data, side by side with a floor.

Prints each step's seconds and share of the total (imports included, as their own step) and the
peak memory, then the floor measured in the same run: a bare read + fit + predict_proba of the same
scikit-learn pipeline with no tracking, gates, registry or serving. Goal: the whole pipeline under
60 s on a 2-core machine with a warm environment. No thresholds are asserted.

    uv run python benchmarks/bench_pipeline.py [--params params.yaml] [--skip build,loadtest]

The run uses a throwaway MLflow store (a temporary SQLite file) so it leaves the repository's
embedded registry untouched.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = """
import time
t = time.perf_counter()
import pandas as pd
from lifecycle.settings import load_settings
from lifecycle.data import dataset as data
from lifecycle.training import model as train
s = load_settings({params!r})
df = data.load_dataset(s)
tr, te = data.split(df, s)
X, y = data.features_and_target(tr, s)
Xt, _ = data.features_and_target(te, s)
model = train.build_pipeline(s).fit(X, y)
model.predict_proba(Xt)
seconds = time.perf_counter() - t
# VmHWM belongs to this process image; ru_maxrss would carry the parent's peak across exec on Linux
peak_kb = next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(seconds, int(peak_kb) / 1024)
"""


def measure_floor(params: Path) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", FLOOR.format(params=str(params))],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, peak_mb = out.stdout.split()[-2:]
    return float(seconds), float(peak_mb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--skip", default="", help="steps to leave out, e.g. build,loadtest")
    args = parser.parse_args()

    store = tempfile.mkdtemp(prefix="bench-mlflow-")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store}/mlflow.db"

    started = time.perf_counter()
    from lifecycle import cli
    from lifecycle.commands import VERBS, pipeline

    for module in ("mlflow", "sklearn.ensemble", "great_expectations", "deepchecks.tabular"):
        __import__(module)
    imports = time.perf_counter() - started

    skip = {s for s in args.skip.split(",") if s}
    steps = pipeline.plan(VERBS, skip)
    result = pipeline.run_steps(steps, args.params, cli.main)
    result.steps.insert(0, pipeline.StepTiming("imports", imports, 0))
    total = time.perf_counter() - started
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    floor_s, floor_mb = measure_floor(args.params)
    slowest = max(result.steps, key=lambda s: s.seconds)
    print("\n## Local pipeline benchmark\n")
    print(pipeline.timing_table(result))
    print("\n| measure | pipeline | floor (read + fit + predict, no tracking) |")
    print("|---|---:|---:|")
    print(f"| seconds | {total:.1f} | {floor_s:.1f} |")
    print(f"| peak memory, MB (largest child: {child_mb:.0f}) | {self_mb:.0f} | {floor_mb:.0f} |")
    print(f"\nGoal: under 60 s. Dominant step: {slowest.verb} ({slowest.seconds:.1f} s).")
    return result.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
