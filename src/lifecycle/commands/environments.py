"""Verb `environments`: apply .github/environments.yml to the repository through GitHub's API."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Create or update the GitHub environments (reviewers, wait timer, branches) from a file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lifecycle.github_environments import DEFAULT_FILE

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


def run(args: argparse.Namespace) -> int:
    from lifecycle import github, github_environments
    from lifecycle.github_api import GitHub

    spec = github_environments.load(args.file)
    if args.dry_run:
        for name, env in spec.environments.items():
            print(github_environments.describe(name, env))
        print(f"{args.file}: valid ({len(spec.environments)} environments); nothing applied")
        return 0
    client = GitHub.from_env(args.repository, args.api_url)
    lines = github_environments.apply(client, spec)
    github.append_summary(
        f"### Environments applied to {client.repository}\n\n"
        + "\n".join(f"- {line}" for line in lines)
    )
    return 0
