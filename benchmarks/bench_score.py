"""Benchmark: batch scoring (`lifecycle score`) of 1M generated rows with the default model.

Trains the model of --params (the default estimator and parameters) on generated data, registers
it in a throwaway MLflow store (a temporary SQLite file), writes --rows generated rows to a
parquet file, then measures, in the same run:

- batch scoring, file to file: read in chunks, check every row, score, write scores and rejects;
- the baseline: the same model's own ``predict_proba`` on the same rows, already in memory.

The two alternate, --repeat times each; each figure is the best of its runs, printed beside
the goal (>= 400,000 rows/s). No thresholds are asserted.

    uv run python benchmarks/bench_score.py [--rows 1000000] [--chunk-rows 100000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml

GOAL_ROWS_PER_S = 400_000
TRAIN_ROWS = 20_000


def registered_settings(params: Path, root: Path):
    """Settings pointing at generated training data, their model trained and registered."""
    from lifecycle.data.dataset import write_table
    from lifecycle.data.generator import generate
    from lifecycle.registry import models
    from lifecycle.settings import load_settings
    from lifecycle.training.fit import train

    raw = yaml.safe_load(params.read_text(encoding="utf-8"))
    raw["data"]["path"] = str(write_table(generate(TRAIN_ROWS, seed=1), root / "train.parquet"))
    contract = Path(raw["gates"]["data"]["contract"])
    raw["gates"]["data"]["contract"] = str(contract.resolve())
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    settings = load_settings(path)
    models.register(settings, train(settings).run_id)
    return settings


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-score-") as scratch:
        root = Path(scratch)
        uri = f"sqlite:///{root / 'mlflow.db'}"
        os.environ.update(MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri)
        run(args, root)
    return 0


def run(args: argparse.Namespace, root: Path) -> None:
    from lifecycle.data.dataset import write_table
    from lifecycle.data.generator import generate
    from lifecycle.serving import batch
    from lifecycle.training.model import model_input, positive_proba

    started = time.perf_counter()
    settings = registered_settings(args.params, root)
    scorer = batch.load_scorer(settings, "candidate")
    print(f"model: {settings.model.estimator} trained on {TRAIN_ROWS:,} rows, registered, loaded "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    frame = generate(args.rows, seed=3).drop(columns=[settings.data.target])
    source = write_table(frame, root / "batch.parquet")
    target = str(root / "scores.parquet")

    def score() -> None:
        batch.score(scorer, str(source), target, args.chunk_rows, settings.data.id_column,
                    progress=lambda line: None)  # fmt: skip

    features = model_input(frame, settings)
    scorings, baselines = [], []
    for _ in range(args.repeat):  # alternating: other load on the machine weighs on both alike
        scorings.append(timed(score))
        baselines.append(timed(lambda: positive_proba(scorer.model, features)))
    scoring, baseline = min(scorings), min(baselines)
    rows = args.rows
    print(f"\nbatch scoring: {rows:,} rows, chunks of {args.chunk_rows:,}, best of {args.repeat}")
    print(f"{'':<44}{'seconds':>9}{'rows/s':>12}")
    met = "met" if rows / scoring >= GOAL_ROWS_PER_S else "not met"
    line("lifecycle score (parquet -> parquet)", scoring, rows,
         f"goal: >= {GOAL_ROWS_PER_S:,} rows/s ({met})")  # fmt: skip
    line("baseline: predict_proba, rows in memory", baseline, rows, "same model, rows and run")
    load = f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    print(f"scoring's rate is {baseline / scoring:.2f}x the baseline's ({scoring / baseline:.2f}x "
          f"its time); load average {load} (other jobs slow both alike)")  # fmt: skip


def line(name: str, seconds: float, rows: int, note: str) -> None:
    print(f"{name:<44}{seconds:>9.2f}{rows / seconds:>12,.0f}   {note}")


if __name__ == "__main__":
    raise SystemExit(main())
