"""Where runs and models live (MLflow), and what every run records about how it was made.

With ``MLFLOW_TRACKING_URI`` unset the store is embedded: a SQLite file ``mlruns/mlflow.db``
with artifacts in ``mlruns/artifacts``, under the current directory (git-ignored). Set the
variable (for example to a shared ``mlflow server``) and the same code talks to that instead.

A remote registry gets a bounded time: ``LIFECYCLE_REGISTRY_TIMEOUT_S`` (default 20 s) sets
MLflow's retry variables so that one request gives up within it, and ``registry_failure`` turns
what MLflow raises then into a RegistryError that names the URL (never "no such model"). A
registry that refuses the user (HTTP 401 or 403) is named as such too, with the user and where
write credentials come from.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lifecycle import __version__
from lifecycle.errors import ConfigError, RegistryError

if TYPE_CHECKING:
    from mlflow.entities import Run

    from lifecycle.settings import Settings

EMBEDDED_DIR = Path("mlruns")
TIMEOUT_ENV = "LIFECYCLE_REGISTRY_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 20
STEP_TAG = "lifecycle.step"
TRAIN_STEP = "train"
TRIAL_STEP = "trial"


def configure() -> str:
    """Point MLflow at the tracking store and the registry; returns the tracking URI."""
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI") or _embedded_uri()
    os.environ.update(retry_settings(timeout_s()))
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # the registry lives in the same store
    return uri


def timeout_s() -> int:
    """How long one registry request may take, retries included (LIFECYCLE_REGISTRY_TIMEOUT_S)."""
    text = os.environ.get(TIMEOUT_ENV, "").strip() or str(DEFAULT_TIMEOUT_S)
    try:
        value = int(float(text))
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{TIMEOUT_ENV}={text!r}: expected a whole number of seconds, at least 1")
    return value


def retry_settings(budget_s: int) -> dict[str, str]:
    """MLflow's retry variables for a budget: tries x timeout + backoff sleeps <= budget_s.

    urllib3 sleeps 0, 2b, 4b ... between tries (b: the backoff factor, a whole number for MLflow).
    """
    retries = 3 if budget_s >= 8 else 1
    backoff = budget_s // 20
    sleeps = backoff * (2**retries - 2)
    per_try = max(1, (budget_s - sleeps) // (retries + 1))
    return {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(backoff),
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(per_try),
    }


def registry_failure(exc: BaseException) -> RegistryError | None:
    """A RegistryError naming the registry when ``exc`` is an unreachable or failing server, or
    one that refused this user (HTTP 401 or 403)."""
    import requests
    from mlflow.exceptions import MlflowException

    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(chain) < 10:
        chain.append(link)
        link = link.__cause__ or link.__context__
    if not any(isinstance(c, MlflowException) for c in chain):
        return None
    refusal = next((c for c in chain if _refusal_status(c)), None)
    if refusal is not None:
        return _refused(refusal)
    faults = [c for c in chain if isinstance(c, requests.RequestException) or _server_error(c)]
    if not faults:
        return None
    cause = faults[0]
    budget = timeout_s()
    tries = int(retry_settings(budget)["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]) + 1
    failing = _server_error(cause) or "error responses" in str(cause)
    what = "failing" if failing else "unreachable"
    return RegistryError(
        f"registry at {describe_uri()} {what} after {tries} tries in {budget} s "
        f"({TIMEOUT_ENV}): {_short(cause)}. Check that the server is up and MLFLOW_TRACKING_URI, "
        "then run the step again (a promote or rollback cut short is finished or undone by the "
        "next command that reads the registry)"
    )


def _refusal_status(exc: BaseException) -> int | None:
    """401 or 403 when ``exc`` is the registry refusing the user, else None."""
    import requests
    from mlflow.exceptions import MlflowException

    status: Any = None
    if isinstance(exc, MlflowException):  # a RestException's code, or the HTTP status mapped
        status = exc.get_http_status_code()  # type: ignore[no-untyped-call]  # unannotated
    elif isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
    return int(status) if status in (401, 403) else None


def _refused(cause: BaseException) -> RegistryError:
    """The registry refused this user: who, what was refused, and where credentials come from."""
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "").strip()
    if user:
        who = f"user '{user}' (MLFLOW_TRACKING_USERNAME)"
    elif os.environ.get("MLFLOW_TRACKING_TOKEN"):
        who = "the token in MLFLOW_TRACKING_TOKEN"
    else:
        who = "an anonymous client (MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_TOKEN unset)"
    endpoint = re.search(r"endpoint (\S+)", str(cause))
    what = f"the request to {endpoint.group(1)}" if endpoint else "this operation"
    if _refusal_status(cause) == 401:
        said = f"did not accept the credentials of {who} for {what} (HTTP 401)"
    else:
        said = f"refused {who} {what} (HTTP 403: permission denied)"
    return RegistryError(
        f"registry at {describe_uri()} {said}. Write credentials are given only to jobs in the "
        "deploy and registry environments (registry, dev, staging, prod: main only); "
        "pull-request checks get read-only ones (registry-read). Check MLFLOW_TRACKING_USERNAME "
        "and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
    )


def _server_error(exc: BaseException) -> bool:
    """An answer from the server that says it failed (HTTP 5xx), as opposed to "no such thing"."""
    from mlflow.exceptions import RestException

    if not isinstance(exc, RestException):
        return False
    status = exc.get_http_status_code()  # type: ignore[no-untyped-call]  # unannotated in MLflow
    return int(status) >= 500


def _short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Caused by ", "timeout exception "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip("() ")[:200] or type(exc).__name__


def unless_fault(exc: BaseException, error: RegistryError) -> RegistryError:
    """``error`` (e.g. "no such model") unless ``exc`` is the registry failing: then that."""
    return registry_failure(exc) or error


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
        except MlflowException as exc:  # created meanwhile by another process
            if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                raise
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
    runs: list[Any] = []
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
    except MlflowException as exc:
        missing = RegistryError(f"run '{run_id}' not found at {describe_uri()}")
        raise unless_fault(exc, missing) from None
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

    from lifecycle.registry.remote import redact

    return redact(mlflow.get_tracking_uri())


def run_metadata(settings: Settings) -> dict[str, str]:
    """Tags that say how a run was made: code, data, settings, lock file, interpreter, machine."""
    from lifecycle.data.dvc import data_version

    here = settings.source.resolve().parent
    commit, dirty = _git_state(here)
    tags = {
        "git.commit": commit,
        "git.dirty": dirty,
        "code.sha256": code_sha256(),
        "data.version": data_version(settings),
        "data.path": str(settings.data.path),
        "params.sha256": file_sha256(settings.source),
        "uv_lock.sha256": file_sha256(lock_file(settings)),
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


def code_sha256() -> str:
    """sha256 of the lifecycle package's own files (names and bytes): the code that trains and
    serves, the same whether installed from this checkout or by a repository using the actions."""
    import lifecycle

    package = Path(lifecycle.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml"):
            digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


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


def lock_file(settings: Settings) -> Path | None:
    """uv.lock beside the settings file or above it (or above the working folder)."""
    return _find_upwards("uv.lock", settings.source.resolve().parent, Path.cwd())


def file_sha256(path: Path | None) -> str:
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
