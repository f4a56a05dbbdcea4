"""Benchmark: the gates' speed and memory. Prints figures; asserts nothing.

1. Data tests on 1M rows of the default columns (generated): the Great Expectations suite built
   from the data contract, side by side with a plain pandas pass computing the same checks (the
   floor), and the ratio. Goal: within 3x of the floor.
2. Model tests plus bias checks on the default data (30k rows): goal under 20 s.

Each measurement runs in its own subprocess: imports are timed apart, the checks run after a
warm-up on a small slice, seconds are the best of --repeat runs (wall and CPU), and peak memory is
the highest RSS sampled while the checks ran (in MB, and above the RSS just before).

    uv run python benchmarks/bench_gates.py [--rows 1000000] [--repeat 3] [--params params.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MEASURES = ("pandas", "gx", "gx+docs", "model+bias")


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """Samples RSS every few milliseconds while the block runs."""

    def __enter__(self) -> PeakRss:
        self.before = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def pandas_checks(frame: Any, settings: Any, contract: Any) -> dict[str, bool]:
    """The contract's checks in plain pandas: the floor the GX suite is compared with."""
    import pandas as pd

    gate = settings.gates.data
    out = {
        "rows": gate.min_rows <= len(frame) <= gate.max_rows,
        "columns": set(frame.columns) == set(contract.columns),
    }
    for name, rule in contract.columns.items():
        column = frame[name]
        kind = "str" if pd.api.types.is_string_dtype(column) else str(column.dtype)
        out[f"{name}.type"] = kind == rule.type
        out[f"{name}.nulls"] = column.isna().mean() <= rule.max_null_share
        present = column.dropna()
        if rule.min is not None or rule.max is not None:
            low = rule.min if rule.min is not None else -float("inf")
            high = rule.max if rule.max is not None else float("inf")
            out[f"{name}.range"] = bool(present.between(low, high).all())
        if rule.allowed is not None:
            out[f"{name}.allowed"] = bool(present.isin(rule.allowed).all())
        if rule.unique:
            out[f"{name}.unique"] = not present.duplicated().any()
        for stat in ("mean", "median"):
            bounds = getattr(rule, stat)
            if bounds is not None:
                out[f"{name}.{stat}"] = bounds[0] <= getattr(present, stat)() <= bounds[1]
    return out


def child(kind: str, rows: int, repeat: int, params: str) -> dict[str, Any]:
    started = time.perf_counter()
    from lifecycle.data.generator import generate
    from lifecycle.gates.contract import load_contract
    from lifecycle.settings import load_settings

    settings = load_settings(params)
    if kind == "model+bias":
        return _model_and_bias(settings, repeat, started)
    from lifecycle.gates.data import run_data_tests

    if kind != "pandas":
        import great_expectations.expectations  # noqa: F401 (timed with the imports)
    imported = time.perf_counter() - started
    contract, frame = load_contract(settings), generate(rows, 42)
    out = Path(tempfile.mkdtemp(prefix="bench-gates-")) if kind == "gx+docs" else None

    def check(data: Any) -> bool:
        if kind == "pandas":
            return all(pandas_checks(data, settings, contract).values())
        return run_data_tests(data, settings, contract, out).passed

    check(frame.head(2000))  # warm-up: lazy imports and registrations
    return {"imports_s": imported, **_timed(lambda: check(frame), repeat)}


def _timed(run: Any, repeat: int) -> dict[str, Any]:
    best, cpu, peak, before, passed = float("inf"), 0.0, 0.0, rss_mb(), None
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        with PeakRss() as memory:
            passed = run()
        wall = time.perf_counter() - wall0
        if wall < best:
            best, cpu = wall, time.process_time() - cpu0
        peak = max(peak, memory.peak)
    return {
        "seconds": best,
        "cpu_s": cpu,
        "peak_mb": peak,
        "above_mb": peak - before,
        "passed": passed,
    }


def _model_and_bias(settings: Any, repeat: int, started: float) -> dict[str, Any]:
    import deepchecks.tabular.checks  # noqa: F401 (timed with the imports)
    import fairlearn.metrics  # noqa: F401

    from lifecycle.data.dataset import features_and_target, load_dataset, split
    from lifecycle.data.generator import generate
    from lifecycle.gates.bias import run_bias
    from lifecycle.gates.contract import load_contract
    from lifecycle.gates.model import run_model_tests
    from lifecycle.training.model import build_pipeline, model_input

    imported = time.perf_counter() - started
    path = settings.data.path
    frame = load_dataset(settings) if path.is_file() else generate(30_000, 42)
    train_df, test_df = split(frame, settings)
    X, y = features_and_target(train_df, settings)
    fit0 = time.perf_counter()
    model = build_pipeline(settings).fit(model_input(X, settings), y)
    fitted = time.perf_counter() - fit0
    contract, out = load_contract(settings), Path(tempfile.mkdtemp(prefix="bench-gates-"))

    def both() -> bool:
        model_report = run_model_tests(model, train_df, test_df, settings, contract, out)
        return model_report.passed and run_bias(model, test_df, settings, out).passed

    run_bias(model, test_df.head(500), settings)  # warm-up
    result = _timed(both, repeat)
    return {"imports_s": imported, "fit_s": fitted, "rows": len(frame), **result}


def measure(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--rows",
        str(args.rows),
        "--repeat",
        str(args.repeat),
        "--params",
        str(args.params),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(figures: dict[str, dict[str, Any]], rows: int) -> None:
    print(f"\nData tests on {rows:,} rows (data in memory, imports excluded)")
    print(f"{'':22}{'seconds':>9}{'cpu s':>9}{'peak MB':>9}{'+MB':>8}{'imports s':>11}  passed")
    for kind in ("pandas", "gx", "gx+docs"):
        f = figures[kind]
        label = {"pandas": "pandas (floor)", "gx": "GX suite", "gx+docs": "GX + Data Docs/JSON"}
        print(
            f"{label[kind]:22}{f['seconds']:9.2f}{f['cpu_s']:9.2f}{f['peak_mb']:9.0f}"
            f"{f['above_mb']:8.0f}{f['imports_s']:11.1f}  {f['passed']}"
        )
    floor = figures["pandas"]
    for kind in ("gx", "gx+docs"):
        wall = figures[kind]["seconds"] / floor["seconds"]
        cpu = figures[kind]["cpu_s"] / floor["cpu_s"]
        memory = figures[kind]["above_mb"] / max(floor["above_mb"], 1)
        print(
            f"ratio {kind} / pandas: {wall:.1f}x wall, {cpu:.1f}x cpu, {memory:.1f}x memory "
            "above baseline (goal: within 3x)"
        )
    f = figures["model+bias"]
    print(f"\nModel tests + bias on the default data ({f['rows']:,} rows, HTML reports included)")
    print(
        f"seconds {f['seconds']:.1f} (cpu {f['cpu_s']:.1f}), peak {f['peak_mb']:.0f} MB; "
        f"imports {f['imports_s']:.1f} s and model fit {f['fit_s']:.1f} s not counted; "
        f"passed {f['passed']} (goal: under 20 s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--child", choices=MEASURES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.repeat, str(args.params))))
        return 0
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} (wall seconds suffer when it is high)")
    figures = {}
    for kind in MEASURES:
        print(f"measuring {kind}…", file=sys.stderr, flush=True)
        figures[kind] = measure(kind, args)
    report(figures, args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
