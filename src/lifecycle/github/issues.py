"""GitHub issues that ask for a person, one per key, opened once and then updated in place.

A nightly check that keeps finding drift must not open a new issue every night. The issue of a
key (``drift``, ``incident``, ...) carries the label ``lifecycle-<key>`` and a hidden marker; the
next alert of the same key finds it among the open issues with that label, replaces its body with
the newest report and adds a one-line comment so its watchers hear of it. Closing the issue means
"handled": the next alert opens a new one.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.errors import UsageError

if TYPE_CHECKING:
    from lifecycle.github.api import GitHub

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
BODY_LIMIT = 65_000  # GitHub refuses issue bodies over 65,536 characters


@dataclass(frozen=True)
class Issue:
    number: int
    url: str
    created: bool


def marker(key: str) -> str:
    return f"<!-- lifecycle-alert:{key} -->"


def label(key: str) -> str:
    return f"lifecycle-{key}"


def check_key(key: str) -> str:
    if not KEY.match(key):
        raise UsageError(
            f"alert key {key!r} is not usable: use lowercase letters, digits and dashes "
            "(e.g. drift, incident)"
        )
    return key


def upsert_issue(client: GitHub, key: str, title: str, body: str, note: str) -> Issue:
    """Update the open issue of `key` (body replaced, `note` commented) or open it."""
    check_key(key)
    text = _fit(f"{marker(key)}\n{body.rstrip()}\n")
    query = urllib.parse.urlencode({"state": "open", "labels": label(key)})
    found = next(
        (
            issue
            for issue in client.paginate(client.repo_path(f"/issues?{query}"))
            if "pull_request" not in issue and marker(key) in (issue.get("body") or "")
        ),
        None,
    )
    if found is None:
        made = client.request(
            "POST",
            client.repo_path("/issues"),
            {"title": title, "body": text, "labels": [label(key)]},
        )
        return Issue(int(made["number"]), str(made.get("html_url", "")), created=True)
    number = int(found["number"])
    client.request("PATCH", client.repo_path(f"/issues/{number}"), {"title": title, "body": text})
    client.request("POST", client.repo_path(f"/issues/{number}/comments"), {"body": note})
    return Issue(number, str(found.get("html_url", "")), created=False)


def dispatch(client: GitHub, workflow: str, ref: str, inputs: dict[str, Any]) -> None:
    """Start `workflow` (its file name, e.g. retrain.yml) on `ref` with `inputs`."""
    path = client.repo_path(f"/actions/workflows/{urllib.parse.quote(workflow)}/dispatches")
    client.request("POST", path, {"ref": ref, "inputs": inputs})


def _fit(text: str) -> str:
    if len(text) <= BODY_LIMIT:
        return text
    cut = "\n\n… (cut to fit an issue: the full report is in the run's artifacts)\n"
    return text[: BODY_LIMIT - len(cut)] + cut
