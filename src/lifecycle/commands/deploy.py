"""Verb `deploy`: roll a model version's Bento out to an environment, then move its alias."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.deploy.deployment import Deployment
    from lifecycle.settings import Settings

HELP = (
    "Deploy a model version's Bento to an environment (local, ssh or your command); moves its "
    "alias."
)


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
    parser.add_argument(
        "--image",
        default="",
        help="container image, for command templates (default: the one recorded on the version)",
    )
    parser.add_argument("--reason", default="", help="why, for the history")
    parser.add_argument("--actor", help="who (default: GITHUB_ACTOR or the user name)")
    parser.add_argument(
        "--github-deployment",
        choices=("true", "false"),
        default="true",
        help="record a GitHub deployment when a token is set (default: true; a workflow job "
        "that names an environment gets one from GitHub already)",
    )
    parser.add_argument(
        "--bootstrap",
        action="store_true",
        help="target ssh: prepare the environment's host (once; idempotent), deploy nothing",
    )


def run(args: argparse.Namespace) -> int:
    from lifecycle.deploy import deployment
    from lifecycle.registry import aliases
    from lifecycle.settings import load_settings

    settings = load_settings(args.params)
    if args.bootstrap:
        from lifecycle.deploy import ssh

        for item, what in ssh.bootstrap(settings, args.env).items():
            print(f"{item}: {what}")
        print(f"the host of {args.env} is ready: `lifecycle deploy --env {args.env}` deploys")
        return 0
    actor = args.actor or aliases.default_actor()
    done = deployment.deploy(
        settings,
        args.env,
        args.version,
        bento_tag=args.bento_tag,
        bento_file=args.bento_file,
        image=args.image,
        actor=actor,
        reason=args.reason,
    )
    report(settings, done, args.github_deployment == "true")
    return 0


def report(settings: Settings, done: Deployment, github_deployment: bool) -> None:
    """Print the deployment, record it on GitHub (if asked and a token is set), set the step
    outputs and the job summary. `rollback` reports its redeploy the same way."""
    from lifecycle.deploy import deployment
    from lifecycle.errors import ConfigError
    from lifecycle.github import actions

    rolled = "rolled out" if done.rolled_out else "already running"
    moved = "alias moved" if done.alias_moved else "alias already there"
    print(
        f"deployed {settings.model.name} version {done.version} ({done.bento_tag}) to "
        f"{done.environment} via {done.target}: {rolled}, {moved}"
        + (f"; {done.url}" if done.url else "")
    )
    deployment_id = ""
    try:
        if github_deployment:
            deployment_id = deployment.record_github_deployment(done, settings, done.image)
    except ConfigError as exc:  # the deploy itself succeeded: say so loudly, do not undo it
        actions.warning(f"deployment not recorded on GitHub: {exc}", title="GitHub deployment")
    for name, value in {
        "version": done.version,
        "bento-tag": done.bento_tag,
        "url": done.url,
        "changed": str(done.rolled_out or done.alias_moved).lower(),
    }.items():
        actions.set_output(name, value)
    actions.append_summary(
        f"### Deployed to {done.environment}\n\n| model | version | Bento | target | URL |\n"
        f"|---|---|---|---|---|\n| {settings.model.name} | {done.version} | `{done.bento_tag}` "
        f"| {done.target} | {done.url or '-'} |"
        + (f"\n\nGitHub deployment {deployment_id} recorded." if deployment_id else "")
    )
