"""Benchmark: `lifecycle drift` on 1M reference rows against 1M current rows, beside a floor.

The data is generated once (the default columns; the current rows with the "drift" problem) and
written to parquet in a temporary folder. Each measurement then runs in its own process, so its
peak memory is its own:

- **drift**: read both files, then every check `lifecycle drift` makes (per-feature PSI + KS or
  chi-square, the domain classifier, prediction drift with a model, the reports), phase by phase;
- **floor**: read both files, then plain numpy histograms per feature (reference-decile bins) and
  category counts: the least any per-feature drift check must do.

Goal: the drift checks under 30 s and 4 GB on a 2-core machine. No thresholds are asserted.

    uv run python benchmarks/bench_drift.py [--rows 1000000] [--log-format parquet|jsonl]

With ``--log-format jsonl`` the current rows are written as a prediction log (one JSON object per
line, as the service's jsonl sink writes) and read through the same reader `drift` uses.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PEAK = """
def peak_mb():
    # VmHWM: this process's own high-water mark (ru_maxrss would include the parent's, inherited
    # across fork + exec on Linux)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

FLOOR = (
    PEAK
    + """
import json, resource, sys, time
import numpy as np, pandas as pd
from lifecycle.settings import load_settings
s = load_settings(sys.argv[1])
t = time.perf_counter()
ref, cur = pd.read_parquet(sys.argv[2]), pd.read_parquet(sys.argv[3])
read = time.perf_counter() - t
after_read = peak_mb()
t = time.perf_counter()
for c in s.data.features.numeric:
    r, k = ref[c].to_numpy(float), cur[c].to_numpy(float)
    r, k = r[~np.isnan(r)], k[~np.isnan(k)]
    edges = np.unique(np.quantile(r, np.linspace(0, 1, 11)))
    np.histogram(r, edges), np.histogram(k, edges)
for c in s.data.features.categorical:
    ref[c].value_counts(), cur[c].value_counts()
work = time.perf_counter() - t
peak = peak_mb()
print(json.dumps({"read": read, "work": work, "after_read_mb": after_read, "peak_mb": peak}))
"""
)

DRIFT = (
    PEAK
    + """
import json, resource, sys, tempfile, time
from pathlib import Path
from lifecycle.settings import load_settings
from lifecycle.data.dataset import features_and_target
from lifecycle.data.generator import generate
from lifecycle.training.model import build_pipeline, model_input
from lifecycle.monitoring import drift_report, stats
from lifecycle.monitoring.drift import check_drift
from lifecycle.monitoring.reference import Reference
from lifecycle.monitoring.scoring import ModelInfo
from lifecycle.monitoring.window import read_window
s = load_settings(sys.argv[1])
X, y = features_and_target(generate(20000, seed=3), s)  # the model: untimed, outside the data
model = ModelInfo("bench", build_pipeline(s).fit(model_input(X, s), y), {"roc_auc": 0.8})
t = time.perf_counter()
import pandas as pd
ref = Reference(pd.read_parquet(sys.argv[2]), "bench", sys.argv[2])
window = read_window(sys.argv[3], s)
read = time.perf_counter() - t
after_read = peak_mb()
t = time.perf_counter()
outcome = check_drift(ref, window, s, model)
checks = time.perf_counter() - t
t = time.perf_counter()
about = drift_report.context(window, ref, model, [])
drift_report.write(outcome, about, Path(tempfile.mkdtemp()))
reports = time.perf_counter() - t
t = time.perf_counter()
from scipy.stats import ks_2samp
import numpy as np
for c in s.data.features.numeric:
    r, k = ref.frame[c].to_numpy(float), window.frame[c].to_numpy(float)
    ks_2samp(r[~np.isnan(r)], k[~np.isnan(k)])
ks_only = time.perf_counter() - t
peak = peak_mb()
print(json.dumps({"read": read, "checks": checks, "reports": reports, "phases": outcome.timings,
                  "ks_only": ks_only, "after_read_mb": after_read, "peak_mb": peak,
                  "drifted": outcome.drifted, "status": outcome.status}))
"""
)


def child(script: str, *argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"benchmark step failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


PREPARE = """
import sys, time
from pathlib import Path
import pandas as pd
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate
rows, folder, log_format = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
started = time.perf_counter()
write_table(generate(rows, seed=1), folder / "reference.parquet")
current = write_table(generate(rows, seed=2, problems="drift"), folder / "current.parquet")
if log_format == "jsonl":  # the current rows as the service's jsonl sink would log them
    log = folder / "predictions" / "predictions-bench.jsonl"
    log.parent.mkdir()
    pd.read_parquet(current).drop(columns=["default"]).to_json(log, orient="records", lines=True)
print(time.perf_counter() - started)
"""


def prepare(rows: int, folder: Path, log_format: str) -> tuple[Path, Path, Path]:
    """The reference and current files (and for jsonl the current rows as a prediction log),
    made in a child process so this one stays small."""
    done = subprocess.run(
        [sys.executable, "-c", PREPARE, str(rows), str(folder), log_format],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"generating the data failed:\n{done.stderr}")
    seconds = float(done.stdout.split()[-1])
    print(f"data: {rows:,} + {rows:,} rows generated and written in {seconds:.1f} s")
    window = folder / "predictions" if log_format == "jsonl" else folder / "current.parquet"
    return folder / "reference.parquet", folder / "current.parquet", window


def report(rows: int, full: dict, floor: dict, log_format: str) -> None:
    phases = full["phases"]
    total = full["checks"] + full["reports"]
    lines = [
        (
            "read reference + current window" + (" (jsonl log)" if log_format == "jsonl" else ""),
            full["read"],
        ),
        ("per-feature drift (PSI, KS, chi-square)", phases.get("features", 0.0)),
        ("  of which KS tests alone (measured apart)", full["ks_only"]),
        ("multivariate (domain classifier, sampled)", phases.get("multivariate", 0.0)),
        ("prediction drift (model scores sampled rows)", phases.get("predictions", 0.0)),
        ("reports (json, md, html)", full["reports"]),
    ]
    print(f"\ndrift: {rows:,} reference rows vs {rows:,} current rows")
    print(f"{'step':<52}{'seconds':>9}{'share':>8}")
    for name, seconds in lines:
        share = "" if name.startswith(("read", "  ")) else f"{seconds / total:>7.0%}"
        print(f"{name:<52}{seconds:>9.2f}{share:>8}")
    print(f"{'checks + reports (the drift itself)':<52}{total:>9.2f}")
    print(
        f"peak memory: {full['peak_mb']:,.0f} MB (after reading the data: "
        f"{full['after_read_mb']:,.0f} MB)"
    )
    print(f"result: {full['status']}, drifted features: {', '.join(full['drifted'])}")
    print("\nfloor (numpy histograms + category counts only), same data, same run:")
    print(f"{'read reference + current (parquet)':<52}{floor['read']:>9.2f}")
    print(f"{'histograms and counts':<52}{floor['work']:>9.2f}")
    print(
        f"peak memory: {floor['peak_mb']:,.0f} MB (after reading: {floor['after_read_mb']:,.0f} MB)"
    )
    dominant = max(lines[1:], key=lambda item: item[1] if not item[0].startswith("  ") else 0)
    print(
        f"\ndominant step: {dominant[0]} ({dominant[1]:.1f} s of {total:.1f} s);"
        f" goal: under 30 s and 4096 MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--log-format", choices=("parquet", "jsonl"), default="parquet")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as folder:
        reference, current, window = prepare(args.rows, Path(folder), args.log_format)
        params = str(args.params.resolve())
        full = child(DRIFT, params, str(reference), str(window))
        floor = child(FLOOR, params, str(reference), str(current))
    report(args.rows, full, floor, args.log_format)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
