"""Verb `environments`: apply .github/environments.yml through GitHub's API, or check that one
environment on GitHub needs a reviewer's approval and admits no branch but the intended ones."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = (
    "Create or update the GitHub environments (reviewers, wait timer, branches) from a file; "
    "--check ENV fails unless ENV needs approval and is closed to other branches."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lifecycle.github.environments import DEFAULT_FILE

    parser.add_argument(
        "--file", type=Path, default=DEFAULT_FILE, help=f"the file (default: {DEFAULT_FILE})"
    )
    parser.add_argument(
        "--repository", help="owner/name (default: GITHUB_REPOSITORY from the environment)"
    )
    parser.add_argument(
        "--api-url", help="GitHub API base URL (default: GITHUB_API_URL or https://api.github.com)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check the file and print it; call no API"
    )
    parser.add_argument(
        "--check",
        metavar="ENV",
        help="apply nothing; exit 1 unless environment ENV on GitHub has required reviewers "
        "and a branch policy that does not admit every branch (needs only actions: read)",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.github import actions, environments
    from lifecycle.github.api import GitHub

    if args.check:
        return _check(args)
    spec = environments.load(args.file)
    if args.dry_run:
        for name, env in spec.environments.items():
            print(environments.describe(name, env))
        print(f"{args.file}: valid ({len(spec.environments)} environments); nothing applied")
        return 0
    client = GitHub.from_env(args.repository, args.api_url)
    lines = environments.apply(client, spec)
    actions.append_summary(
        f"### Environments applied to {client.repository}\n\n"
        + "\n".join(f"- {line}" for line in lines)
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from lifecycle.errors import GateFailed
    from lifecycle.github import actions, environments
    from lifecycle.github.api import GitHub

    client = GitHub.from_env(args.repository, args.api_url)
    problems = environments.protection_problems(client, args.check)
    if problems:
        message = (
            "; ".join(problems)
            + f". Nothing was deployed. Fix environment {args.check} in the repository's "
            "settings, or apply .github/environments.yml with `lifecycle environments` and an "
            "administrator's token (required reviewers on a private repository need a GitHub "
            "Team or Enterprise plan)"
        )
        actions.error(message, title=f"Environment {args.check} is not protected")
        raise GateFailed(message)
    actions.append_summary(
        f"### Environment {args.check} is protected\n\n"
        f"- {client.repository}: {args.check} needs a reviewer's approval; "
        "not every branch may deploy to it"
    )
    return 0
