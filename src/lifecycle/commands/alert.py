"""Verb `alert`: open or update the one GitHub issue of a key, and optionally start a workflow.

Used by the scheduled drift check: drift opens (or updates, never duplicates) the `drift` issue
with the report and dispatches retraining; a scheduled run that fails opens the `incident` issue.
The token comes from GITHUB_TOKEN (or GH_TOKEN); the repository from GITHUB_REPOSITORY.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Open or update the one GitHub issue of a key (drift, incident); optionally dispatch a run."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", required=True, help="what the issue is about: drift, incident, …")
    parser.add_argument("--title", required=True, help="issue title")
    body = parser.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", type=Path, help="Markdown file with the issue body")
    body.add_argument("--body", help="the issue body, inline")
    parser.add_argument(
        "--dispatch",
        metavar="WORKFLOW",
        help="also start this workflow (file name, e.g. retrain.yml)",
    )
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input of the dispatched workflow (repeatable; an empty VALUE leaves it out; "
        "unused without --dispatch)",
    )
    parser.add_argument("--ref", help="branch to run the workflow on (default: GITHUB_REF_NAME)")
    parser.add_argument("--repository", help="owner/name (default: GITHUB_REPOSITORY)")
    parser.add_argument("--api-url", help="GitHub API base URL (default: GITHUB_API_URL)")


def run(args: argparse.Namespace) -> int:
    import os
    from datetime import UTC, datetime

    from lifecycle.errors import DataError, UsageError
    from lifecycle.github import actions, issues
    from lifecycle.github.api import GitHub

    issues.check_key(args.key)
    inputs = {name: value for name, value in map(_pair, args.input) if value}
    if inputs and not args.dispatch:  # e.g. an action whose dispatch input is conditional
        print(f"no --dispatch: the workflow input(s) {', '.join(inputs)} go nowhere")
    ref = args.ref or os.environ.get("GITHUB_REF_NAME", "")
    if args.dispatch and not ref:
        raise UsageError("--dispatch needs a branch: pass --ref or set GITHUB_REF_NAME")
    if args.body_file is not None:
        if not args.body_file.is_file():
            raise DataError(f"{args.body_file} not found: the step that writes it did not run")
        body = args.body_file.read_text(encoding="utf-8")
    else:
        body = args.body
    client = GitHub.from_env(args.repository, args.api_url)
    run_url = _run_url()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if run_url:
        body = f"{body.rstrip()}\n\n---\nLatest: [workflow run]({run_url}) at {stamp}.\n"
    note = f"Seen again at {stamp}" + (f" in [this run]({run_url})" if run_url else "") + "."
    issue = issues.upsert_issue(client, args.key, args.title, body, note)
    said = "opened" if issue.created else "updated"
    print(f"{args.key} issue #{issue.number} {said}: {issue.url}")
    lines = [f"Issue #{issue.number} ({args.key}) {said}: {issue.url}"]
    if args.dispatch:
        issues.dispatch(client, args.dispatch, ref, inputs)
        print(f"dispatched {args.dispatch} on {ref}")
        lines.append(f"Dispatched `{args.dispatch}` on `{ref}`.")
    actions.append_summary("\n\n".join(lines))
    actions.set_output("issue-number", str(issue.number))
    actions.set_output("issue-url", issue.url)
    actions.set_output("created", str(issue.created).lower())
    return 0


def _pair(item: str) -> tuple[str, str]:
    from lifecycle.errors import UsageError

    name, sep, value = item.partition("=")
    if not sep or not name:
        raise UsageError(f"--input {item!r}: write NAME=VALUE")
    return name, value


def _run_url() -> str:
    import os

    server, repo, run_id = (
        os.environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else ""
