"""Fixtures for the serving tests: a Bento built once per session from a real trained model.

``serving_world`` trains a small model, registers it and builds its Bento, each step with the
real CLI in its own process (``python -m lifecycle ...``), so BentoML's process-wide store
settings and MLflow's URIs never leak into other tests. Everything lives under one temporary
folder: the MLflow store, BENTOML_HOME, the params file, reports and prediction logs. Its
target is text (``"yes"``/``"no"``, positive ``"yes"``, the credit data's 1/0), so every serving
test runs against a model whose answers must carry the target's own labels, not the 0/1 the
model is fitted on.
``served`` is that Bento served on a free loopback port for the whole session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import fixtures
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate
from lifecycle.serving import server
from lifecycle.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3000
# a small, quick model and a short load test; thresholds stay those of the tests' params.yaml;
# two worker processes, so every serving test also holds with several workers (test_workers.py)
WORKERS = 2
OVERRIDES = {
    "model": {"params": {"max_iter": 40}},
    "serving": {"workers": WORKERS},
    "gates": {"loadtest": {"users": 4, "spawn_rate": 4, "duration_s": 4}},
    "data": {"positive_label": "yes"},
}
LABELS = {1: "yes", 0: "no"}  # the generated target's values -> the served model's labels


@dataclass(frozen=True)
class World:
    root: Path
    params: Path
    env: dict[str, str]
    bento_tag: str
    version: str
    sha256: str

    @property
    def settings(self) -> Settings:
        return load_settings(self.params)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return run_cli(self.root, {**self.env, **(env or {})}, *args)

    def params_with(self, overrides: dict, name: str) -> Path:
        """This world's params file with ``overrides`` merged in, written to ``name``."""
        raw = merge(yaml.safe_load(self.params.read_text(encoding="utf-8")), overrides)
        path = self.root / name
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return path


def merge(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = merge(base[key], value) if both else value
    return merged


def run_cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lifecycle", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def outputs(path: Path) -> dict[str, str]:
    """GitHub step outputs (name<<delimiter / value / delimiter) as a dict."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    found, index = {}, 0
    while index < len(lines):
        name, _, delimiter = lines[index].partition("<<")
        found[name] = lines[index + 1]
        index += 3 if lines[index + 2] == delimiter else 2
    return found


def write_params(root: Path, data: Path) -> Path:
    """The tests' own settings (tests/fixtures) with OVERRIDES, logging predictions in root."""
    log = {"serving": {"prediction_log": {"path": str(root / "predictions")}}}
    return fixtures.write_params(root / "params.yaml", data, merge(OVERRIDES, log))


@pytest.fixture(scope="session")
def serving_world(tmp_path_factory: pytest.TempPathFactory, tracking_template: Path) -> World:
    root = tmp_path_factory.mktemp("serving")
    (root / "mlruns").mkdir()
    shutil.copyfile(tracking_template, root / "mlruns" / "mlflow.db")
    frame = generate(ROWS, 11)
    frame["default"] = frame["default"].map(LABELS)
    params = write_params(root, write_table(frame, root / "data" / "credit.parquet"))
    env = fixtures.project_env(root)
    build = ["build", "--bentofile", str(ROOT / "bentofile.yaml"), "--export-to", "dist/b.bento"]
    for step in (["train"], ["register"], build):
        done = run_cli(root, env, *step, "--params", str(params))
        assert done.returncode == 0, f"lifecycle {step[0]} failed:\n{done.stdout}\n{done.stderr}"
    built = outputs(root / "github_output")
    return World(
        root, params, env, built["bento-tag"], built["model-version"], built["model-sha256"]
    )


@pytest.fixture(scope="session")
def served(serving_world: World) -> Iterator[server.Server]:
    """The session's Bento, served on a free loopback port (stopped at the end)."""
    world = serving_world
    with server.running(
        world.bento_tag,
        "127.0.0.1",
        0,
        world.root / "reports" / "served.log",
        world.settings.serving.startup_timeout_s,
        prediction_log=world.root / "predictions",
        env=world.env,
    ) as running:
        yield running
