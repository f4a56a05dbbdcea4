"""Is the model registry one that outlives a CI runner? Checked before any deploy starts.

A deploy moves aliases that later runs (rollback, the next deploy, drift checks) must see, so it
needs a persistent `mlflow server`, not the embedded SQLite store that vanishes with the runner.
"""

from __future__ import annotations

import base64
import os
import urllib.error
import urllib.request
from urllib.parse import urlparse

from lifecycle.errors import ConfigError

REMOTE_SCHEMES = ("http", "https", "databricks")
TIMEOUT_S = 10

HOW_TO = (
    "Set the variable MLFLOW_TRACKING_URI (the URL of a persistent `mlflow server`) and, if the "
    "server needs them, the secrets MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or "
    "MLFLOW_TRACKING_TOKEN) on the GitHub environments registry, dev, staging and prod, e.g. "
    "`gh variable set MLFLOW_TRACKING_URI --env registry --body https://mlflow.example.com`. "
    "Pull-request checks do not need it: they run on an ephemeral embedded store."
)


def require_remote() -> str:
    """The tracking URI (without credentials) if it is remote and answers; ConfigError otherwise."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri:
        raise ConfigError(
            "MLFLOW_TRACKING_URI is not set, so models would go to an embedded store that is lost "
            f"when this runner stops; nothing was deployed. {HOW_TO}"
        )
    parsed = urlparse(uri)
    shown = redact(uri)
    if parsed.scheme not in REMOTE_SCHEMES:
        raise ConfigError(
            f"MLFLOW_TRACKING_URI={shown} is a local store ({parsed.scheme or 'a path'}), lost "
            f"when this runner stops; nothing was deployed. {HOW_TO}"
        )
    if parsed.scheme in ("http", "https"):
        _check_server(uri.rstrip("/"), shown)
    return shown


def _check_server(uri: str, shown: str) -> None:
    """GET one small registry endpoint with the configured credentials."""
    url = f"{uri}/api/2.0/mlflow/registered-models/search?max_results=1"
    request = urllib.request.Request(url, headers=_auth_headers())  # noqa: S310 (http(s) only)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S):  # noqa: S310
            return
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise ConfigError(
                f"the MLflow server at {shown} refused the credentials ({exc.code}): check the "
                "secrets MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN"
            ) from None
        raise ConfigError(
            f"the MLflow server at {shown} answered {exc.code} to a registry query: is it an "
            "`mlflow server` with the model registry enabled?"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"cannot reach the MLflow server at {shown} ({reason}): check MLFLOW_TRACKING_URI and "
            "that the server is up and reachable from the runner"
        ) from None


def _auth_headers() -> dict[str, str]:
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
    if user:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    return {}


def redact(uri: str) -> str:
    """The URI without a user or password in it, for messages and outputs."""
    parsed = urlparse(uri)
    if not (parsed.username or parsed.password):
        return uri
    host = parsed.hostname or ""
    return parsed._replace(netloc=f"{host}:{parsed.port}" if parsed.port else host).geturl()
