"""Verb `deploy`: roll a model version's Bento out to an environment, then move its alias."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Deploy a model version's Bento to an environment (local or your command); moves its alias."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment from params.yaml, e.g. dev")
    parser.add_argument(
        "--version",
        default="candidate",
        help="model version or alias to deploy (default: candidate)",
    )
    parser.add_argument(
        "--bento-tag", help="the Bento to deploy (default: the one recorded on the version)"
    )
    parser.add_argument(
        "--bento-file", type=Path, help="an exported Bento (.bento) to import first, if missing"
    )
    parser.add_argument("--image", default="", help="container image, for command templates")
    parser.add_argument("--reason", default="", help="why, for the history")
    parser.add_argument("--actor", help="who (default: GITHUB_ACTOR or the user name)")


def run(args: argparse.Namespace) -> int:
    from lifecycle import deploy, github, registry
    from lifecycle.errors import ConfigError
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    actor = args.actor or registry.default_actor()
    done = deploy.deploy(
        settings,
        args.env,
        args.version,
        bento_tag=args.bento_tag,
        bento_file=args.bento_file,
        image=args.image,
        actor=actor,
        reason=args.reason,
    )
    rolled = "rolled out" if done.rolled_out else "already running"
    moved = "alias moved" if done.alias_moved else "alias already there"
    print(
        f"deployed {settings.model.name} version {done.version} ({done.bento_tag}) to "
        f"{done.environment} via {done.target}: {rolled}, {moved}"
        + (f"; {done.url}" if done.url else "")
    )
    try:
        deployment_id = deploy.record_github_deployment(done, settings, args.image)
    except ConfigError as exc:  # the deploy itself succeeded: say so loudly, do not undo it
        github.warning(f"deployment not recorded on GitHub: {exc}", title="GitHub deployment")
        deployment_id = ""
    for name, value in {
        "version": done.version,
        "bento-tag": done.bento_tag,
        "url": done.url,
        "changed": str(done.rolled_out or done.alias_moved).lower(),
    }.items():
        github.set_output(name, value)
    github.append_summary(
        f"### Deployed to {done.environment}\n\n| model | version | Bento | target | URL |\n"
        f"|---|---|---|---|---|\n| {settings.model.name} | {done.version} | `{done.bento_tag}` "
        f"| {done.target} | {done.url or '-'} |"
        + (f"\n\nGitHub deployment {deployment_id} recorded." if deployment_id else "")
    )
    return 0
