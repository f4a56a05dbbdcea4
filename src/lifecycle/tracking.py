"""Where runs and models live (MLflow), and what every run records about how it was made.

With ``MLFLOW_TRACKING_URI`` unset the store is embedded: a SQLite file ``mlruns/mlflow.db``
with artifacts in ``mlruns/artifacts``, under the current directory (git-ignored). Set the
variable (for example to a shared ``mlflow server``) and the same code talks to that instead.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lifecycle import __version__
from lifecycle.errors import RegistryError

if TYPE_CHECKING:
    from mlflow.entities import Run

    from lifecycle.settings import Settings

EMBEDDED_DIR = Path("mlruns")
STEP_TAG = "lifecycle.step"
TRAIN_STEP = "train"
TRIAL_STEP = "trial"


def configure() -> str:
    """Point MLflow at the tracking store and the registry; returns the tracking URI."""
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI") or _embedded_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # the registry lives in the same store
    return uri


def _embedded_uri() -> str:
    folder = (Path.cwd() / EMBEDDED_DIR).resolve()
    (folder / "artifacts").mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'mlflow.db').as_posix()}"


def artifact_location(uri: str) -> str | None:
    """SQLite store: artifacts go beside the database, in ``artifacts/``; else the server picks."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    database = Path(unquote(uri[len("sqlite:///") :]))
    return (database.resolve().parent / "artifacts").as_uri()


def experiment(settings: Settings) -> str:
    """The id of the experiment named after the model, created on first use."""
    import mlflow
    from mlflow.exceptions import MlflowException

    uri = configure()
    name = settings.model.name
    found = mlflow.get_experiment_by_name(name)
    if found is None:
        try:
            return mlflow.create_experiment(name, artifact_location=artifact_location(uri))
        except MlflowException:  # created meanwhile by another process
            found = mlflow.get_experiment_by_name(name)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        mlflow.MlflowClient().restore_experiment(found.experiment_id)
    return found.experiment_id


def latest_run_id(settings: Settings) -> str:
    """The most recent finished training run of the model's experiment."""
    import mlflow

    configure()
    found = mlflow.get_experiment_by_name(settings.model.name)
    runs = []
    if found is not None:
        runs = mlflow.MlflowClient().search_runs(
            [found.experiment_id],
            filter_string=f"tags.`{STEP_TAG}` = '{TRAIN_STEP}' and attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    if not runs:
        raise RegistryError(
            f"no finished training run in experiment '{settings.model.name}' at "
            f"{describe_uri()}: run `lifecycle train` first, or pass --run-id"
        )
    return runs[0].info.run_id


def training_run(run_id: str) -> Run:
    """The run, checked to be a finished training run; RegistryError otherwise."""
    import mlflow
    from mlflow.exceptions import MlflowException

    configure()
    try:
        run = mlflow.MlflowClient().get_run(run_id)
    except MlflowException:
        raise RegistryError(f"run '{run_id}' not found at {describe_uri()}") from None
    step = run.data.tags.get(STEP_TAG)
    if step != TRAIN_STEP:
        raise RegistryError(
            f"run '{run_id}' is not a training run (tag {STEP_TAG}={step!r}): pass the id "
            "that `lifecycle train` printed"
        )
    if run.info.status != "FINISHED":
        raise RegistryError(
            f"run '{run_id}' is {run.info.status}, not FINISHED: train again and use the new run"
        )
    return run


def describe_uri() -> str:
    """The tracking URI without credentials, for messages."""
    import mlflow

    from lifecycle.registry_check import redact

    return redact(mlflow.get_tracking_uri())


def run_metadata(settings: Settings) -> dict[str, str]:
    """Tags that say how a run was made: code, data, settings, lock file, interpreter, machine."""
    from lifecycle.data import data_version

    here = settings.source.resolve().parent
    commit, dirty = _git_state(here)
    tags = {
        "git.commit": commit,
        "git.dirty": dirty,
        "data.version": data_version(settings),
        "data.path": str(settings.data.path),
        "params.sha256": _sha256(settings.source),
        "uv_lock.sha256": _sha256(_find_upwards("uv.lock", here, Path.cwd())),
        "lifecycle.version": __version__,
        "python.version": platform.python_version(),
        "host.platform": platform.platform(),
        "host.cpu_count": str(os.cpu_count() or "unknown"),
        "host.memory_gb": _memory_gb(),
    }
    run_url = ci_run_url()
    if run_url:
        tags["ci.run_url"] = run_url
    return tags


def _git_state(where: Path) -> tuple[str, str]:
    """(commit, "true"/"false"/"unknown" for uncommitted changes); GITHUB_SHA outside a checkout."""
    commit = _git(where, "rev-parse", "HEAD")
    if commit is None:
        return os.environ.get("GITHUB_SHA", "unknown"), "unknown"
    status = _git(where, "status", "--porcelain", "--untracked-files=no")
    return commit, "unknown" if status is None else str(bool(status)).lower()


def _git(where: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _sha256(path: Path | None) -> str:
    if path is None or not path.is_file():
        return "missing"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _find_upwards(name: str, *starts: Path) -> Path | None:
    for start in starts:
        for folder in (start, *start.resolve().parents):
            if (folder / name).is_file():
                return folder / name
    return None


def _memory_gb() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return "unknown"
    return f"{total / 2**30:.1f}"


def ci_run_url() -> str | None:
    env = os.environ
    if not all(env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        return None
    return (
        f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    )


def progress(message: str) -> None:
    """A progress line on stderr, so stdout keeps only the step's result."""
    print(message, file=sys.stderr, flush=True)


def flat_params(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as MLflow params: {"split": {"seed": 1}} -> {"split.seed": "1"}."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_params(value, f"{name}."))
        else:
            flat[name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return flat
