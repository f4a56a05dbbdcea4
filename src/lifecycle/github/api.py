"""A small client for GitHub's REST API: `request` raises an error that says how to fix it,
`send` returns the answer with its status for the callers that act on one (a fork's 403).

Used by the PR-comment upsert, deployment records and `lifecycle environments`. The token comes
from the environment (GITHUB_TOKEN in a workflow, or GH_TOKEN); the base URL from GITHUB_API_URL,
so GitHub Enterprise works, and tests point it at a local server.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from lifecycle.errors import ConfigError, UsageError

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT_S = 30

_HINTS = {
    401: "the token is missing, expired or wrong: check GITHUB_TOKEN (or GH_TOKEN)",
    403: "the token lacks a permission this call needs (see the job's `permissions:`)",
    404: "not found, or the token cannot see it: check the repository name and the token's scope",
}


@dataclass(frozen=True)
class Answer:
    """GitHub's answer to one request: the HTTP status and the decoded JSON (or None)."""

    status: int
    payload: Any

    @property
    def message(self) -> str:
        """The `message` GitHub gives with an error status ("" when there is none)."""
        return str(self.payload.get("message", "")) if isinstance(self.payload, dict) else ""

    def describe(self, method: str, path: str) -> str:
        hint = _HINTS.get(self.status, "see the message GitHub returned")
        said = f": {self.message}" if self.message else ""
        return f"GitHub API {method} {path} answered {self.status}{said}; {hint}"


@dataclass(frozen=True)
class GitHub:
    """A repository on a GitHub API server, with the token that acts on it."""

    repository: str
    token: str
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_env(cls, repository: str | None = None, api_url: str | None = None) -> GitHub:
        """Read the token, repository and API URL from the environment; UsageError if absent."""
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or ""
        repository = repository or os.environ.get("GITHUB_REPOSITORY", "")
        if not token:
            raise UsageError(
                "no GitHub token: set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: "
                "${{ github.token }}) or GH_TOKEN"
            )
        if "/" not in repository:
            raise UsageError("no repository: set GITHUB_REPOSITORY=owner/name or pass --repository")
        api = api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
        return cls(repository=repository, token=token, api_url=api.rstrip("/"))

    def repo_path(self, suffix: str) -> str:
        return f"/repos/{self.repository}{suffix}"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; returns the decoded JSON (None for an empty body).

        An error status raises ConfigError naming the call, the status and the likely fix.
        """
        answer = self.send(method, path, body)
        if answer.status >= 400:
            raise ConfigError(answer.describe(method, path))
        return answer.payload

    def send(self, method: str, path: str, body: Any = None) -> Answer:
        """Send one request and return GitHub's answer, whatever its status.

        For the callers that act on a status (a 403 on a fork's pull request, a 404 environment);
        only an unreachable server raises (ConfigError).
        """
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (the URL is the configured API base)
            self.api_url + path,
            data=data,
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
                "User-Agent": "lifecycle",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                return Answer(response.status, _decode(response.read()))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, _decode(exc.read() or b""))
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConfigError(
                f"GitHub API at {self.api_url} unreachable ({reason}): check GITHUB_API_URL"
            ) from None

    def paginate(self, path: str, key: str | None = None) -> list[Any]:
        """Every item of a paginated list (100 per page); `key` names the list in an object."""
        items: list[Any] = []
        separator = "&" if "?" in path else "?"
        for page in range(1, 1000):
            chunk = self.request("GET", f"{path}{separator}per_page=100&page={page}")
            chunk = chunk.get(key, []) if key else chunk
            items.extend(chunk or [])
            if len(chunk or []) < 100:
                break
        return items


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload.strip() else None
    except ValueError:
        return None
