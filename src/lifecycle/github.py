"""GitHub Actions plumbing, in one place: outputs, job summaries, annotations, the PR comment.

Inside Actions these write to the files GitHub gives (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and emit
workflow commands. Outside Actions they fall back to stdout, so the CLI behaves the same locally.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.github_api import GitHub as GitHubClient


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def set_output(name: str, value: str) -> None:
    """Declare a step output. Multi-line values use a random delimiter, as GitHub documents."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    delimiter = f"EOF_{uuid.uuid4().hex}"
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(markdown: str) -> None:
    """Append Markdown to the job summary; locally it is printed instead."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip() + "\n\n")
    else:
        print(markdown.rstrip() + "\n")


def _escape(message: str) -> str:
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def error(message: str, title: str | None = None) -> None:
    """An ::error:: annotation inside Actions; a plain line on stderr elsewhere."""
    if in_actions():
        prefix = f"::error title={_escape(title)}::" if title else "::error::"
        print(prefix + _escape(message), file=sys.stderr)


def warning(message: str, title: str | None = None) -> None:
    if in_actions():
        prefix = f"::warning title={_escape(title)}::" if title else "::warning::"
        print(prefix + _escape(message), file=sys.stderr)


def pull_request_number() -> int | None:
    """The pull request this run belongs to, read from the event payload; None otherwise."""
    event_path = os.environ.get("GITHUB_EVENT_PATH")
    if not event_path or not Path(event_path).is_file():
        return None
    event = json.loads(Path(event_path).read_text(encoding="utf-8") or "{}")
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    return int(number) if number else None


def upsert_comment(client: GitHubClient, number: int, body: str, marker: str) -> str:
    """Create the PR comment carrying `marker`, or update it in place. Returns its URL."""
    listing = client.repo_path(f"/issues/{number}/comments")
    mine = next((c for c in client.paginate(listing) if marker in (c.get("body") or "")), None)
    if mine is None:
        made = client.request("POST", listing, {"body": body})
    else:
        path = client.repo_path(f"/issues/comments/{mine['id']}")
        made = client.request("PATCH", path, {"body": body})
    return str((made or {}).get("html_url", ""))
