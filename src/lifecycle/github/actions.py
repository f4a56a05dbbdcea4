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
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ConfigError

if TYPE_CHECKING:
    from lifecycle.github.api import GitHub as GitHubClient


# comments made with a workflow's GITHUB_TOKEN are written by this user
DEFAULT_BOT_LOGIN = "github-actions[bot]"
BOT_LOGIN_ENV = "LIFECYCLE_BOT_LOGIN"
FORBIDDEN = 403


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


def append_summary(markdown: str, echo: bool = True) -> None:
    """Append Markdown to the job summary; locally it is printed instead, unless ``echo`` is
    false (the caller printed its own view of it)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip() + "\n\n")
    elif echo:
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


def bot_login() -> str:
    """Who the workflow's token comments as: LIFECYCLE_BOT_LOGIN (for a GitHub App's token),
    else the Actions bot."""
    return os.environ.get(BOT_LOGIN_ENV, "").strip() or DEFAULT_BOT_LOGIN


def upsert_comment(
    client: GitHubClient, number: int, body: str, marker: str, author: str
) -> str | None:
    """Create the PR comment carrying `marker`, or update it in place. Returns its URL.

    Only a comment written by `author` (the workflow's bot) counts as ours: a marker pasted into
    anyone else's comment is ignored, so nobody's comment is overwritten. None when GitHub
    refuses the write with 403 (a fork's pull request gets a read-only token).
    """
    listing = client.repo_path(f"/issues/{number}/comments")
    mine = next((c for c in client.paginate(listing) if _ours(c, marker, author)), None)
    if mine is None:
        method, path = "POST", listing
    else:
        method, path = "PATCH", client.repo_path(f"/issues/comments/{mine['id']}")
    answer = client.send(method, path, {"body": body})
    if answer.status == FORBIDDEN:
        return None
    if answer.status >= 400:
        raise ConfigError(answer.describe(method, path))
    return str((answer.payload or {}).get("html_url", ""))


def _ours(comment: dict[str, Any], marker: str, author: str) -> bool:
    login = (comment.get("user") or {}).get("login", "")
    return login == author and marker in (comment.get("body") or "")
