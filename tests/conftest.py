"""Shared fixtures: small generated data, settings pointing at it, modified params files.

- ``small_df``: a fresh copy of a small generated frame (SMALL_ROWS rows, seed SMALL_SEED).
- ``small_parquet``: that frame written to ``tmp_path/data/credit.parquet``.
- ``params_file(overrides=None, *, remove=(), name="params.yaml")``: writes the tests' own
  settings (tests/fixtures/params.yaml, never the repository's), deep-merged with ``overrides``
  and with the dotted keys in ``remove`` deleted, to ``tmp_path`` and returns its path. Unless
  overridden, ``data.path`` points at ``small_parquet`` and the contract at the tests' own copy
  (tests/fixtures/contract.yaml): the tests pass whatever data the repository is adapted to.
- ``settings``: ``load_settings(params_file())``; ``settings.source`` is the file to pass as
  ``--params`` to ``lifecycle.cli.main``.
- ``data_file(frame, name="batch.parquet")``: writes any frame (.parquet or .csv) to ``tmp_path``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from fixtures import credit_params
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate
from lifecycle.settings import Settings, load_settings

# every `mlflow server` a test starts: no background job runner and Huey consumers (seven extra
# processes per server, for features no test uses)
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")


@pytest.fixture(autouse=True)
def _not_in_a_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests behave the same when the checks run them inside GitHub Actions (a test that
    wants a workflow's behaviour sets GITHUB_ACTIONS itself)."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture(autouse=True)
def _dvc_logs_to_live_streams():
    """DVC binds its log handlers to the streams present at import; pytest swaps them per test."""
    import sys

    if "dvc" in sys.modules:
        from lifecycle.data.dvc import route_dvc_logs

        route_dvc_logs()


SMALL_ROWS = 4000
SMALL_SEED = 7


@pytest.fixture(scope="session")
def _small_frame() -> pd.DataFrame:
    return generate(SMALL_ROWS, SMALL_SEED)


@pytest.fixture
def small_df(_small_frame: pd.DataFrame) -> pd.DataFrame:
    return _small_frame.copy()


@pytest.fixture
def small_parquet(tmp_path: Path, _small_frame: pd.DataFrame) -> Path:
    return write_table(_small_frame, tmp_path / "data" / "credit.parquet")


@pytest.fixture
def data_file(tmp_path: Path) -> Callable[..., Path]:
    def write(frame: pd.DataFrame, name: str = "batch.parquet") -> Path:
        return write_table(frame, tmp_path / name)

    return write


@pytest.fixture
def params_file(tmp_path: Path, small_parquet: Path) -> Callable[..., Path]:
    def write(
        overrides: dict[str, Any] | None = None,
        *,
        remove: Iterable[str] = (),
        name: str = "params.yaml",
    ) -> Path:
        raw = credit_params(small_parquet, overrides)
        for dotted in remove:
            *parents, last = dotted.split(".")
            section = raw
            for key in parents:
                section = section[key]
            del section[last]
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def settings(params_file: Callable[..., Path]) -> Settings:
    return load_settings(params_file())


# --- MLflow tracking store (owner: train) ----------------------------------------------------


@pytest.fixture(scope="session")
def tracking_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store, migrated once per session (a new one takes seconds)."""
    import mlflow

    database = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{database.as_posix()}").search_experiments()
    return database


def use_tracking_store(monkeypatch: pytest.MonkeyPatch, root: Path, template: Path) -> str:
    """MLFLOW_TRACKING_URI -> a copy of the template store in root/mlruns; cwd -> root."""
    import shutil

    import mlflow

    (root / "mlruns").mkdir(parents=True, exist_ok=True)
    database = root / "mlruns" / "mlflow.db"
    shutil.copyfile(template, database)
    uri = f"sqlite:///{database.as_posix()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)  # MLflow sets both; both are restored after
    monkeypatch.chdir(root)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def forget_tracking_store() -> None:
    """End runs left open and drop MLflow's process-wide URIs."""
    import mlflow

    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture
def tracking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracking_template: Path
) -> Iterator[str]:
    """A fresh SQLite tracking store and registry under tmp_path (cwd); yields its URI."""
    yield use_tracking_store(monkeypatch, tmp_path, tracking_template)
    forget_tracking_store()


@pytest.fixture(scope="module")
def module_tracking(
    tmp_path_factory: pytest.TempPathFactory, tracking_template: Path
) -> Iterator[Path]:
    """Like ``tracking`` but shared by a module's tests (to train once); yields its folder."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        root = tmp_path_factory.mktemp("tracking")
        use_tracking_store(monkeypatch, root, tracking_template)
        yield root
        forget_tracking_store()
