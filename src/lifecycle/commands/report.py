"""Verb `report`: one Markdown report from the gate results, as a PR comment updated in place."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Render reports/*.json as one Markdown report; in a pull request, upsert it as a comment."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), help="folder of gate JSON reports"
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown to this file")
    parser.add_argument(
        "--comment",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto: upsert the PR comment when a pull request and a token are known",
    )
    parser.add_argument("--pr", type=int, help="pull request number (default: from the event)")
    parser.add_argument("--repository", help="owner/name (default: GITHUB_REPOSITORY)")
    parser.add_argument("--api-url", help="GitHub API base URL (default: GITHUB_API_URL)")


def run(args: argparse.Namespace) -> int:
    import os

    from lifecycle.errors import UsageError
    from lifecycle.gates import pr_report
    from lifecycle.github import actions
    from lifecycle.github.api import GitHub

    gates = pr_report.load_reports(args.reports)
    markdown = pr_report.render(gates)
    if args.output:
        _write(args.output, markdown)
    number = args.pr or actions.pull_request_number()
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    wanted = args.comment == "always" or (args.comment == "auto" and number and token)
    actions.set_output("passed", str(pr_report.all_passed(gates)).lower())
    if not wanted:
        actions.append_summary(markdown)
        return 0
    if not number:
        raise UsageError("--comment always needs a pull request: pass --pr or run on pull_request")
    client = GitHub.from_env(args.repository, args.api_url)
    url = actions.upsert_comment(client, number, markdown, pr_report.MARKER, actions.bot_login())
    if url is None:  # a fork's pull request: the token may read but not comment
        actions.warning(
            f"the token may not comment on pull request #{number} (GitHub answered 403, as it "
            "does for a pull request from a fork): the report is in this job's summary",
            title="Report not posted as a comment",
        )
        actions.append_summary(markdown)
        print(f"pull request #{number} refused the comment (403): report in the job summary")
        return 0
    actions.set_output("comment-url", url)
    actions.append_summary(markdown + f"\n\nPosted to pull request #{number}: {url}")
    print(f"report posted to pull request #{number}: {url}")
    return 0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
