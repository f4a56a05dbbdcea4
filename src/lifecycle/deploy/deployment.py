"""Deploy a registered model version's Bento to an environment, then move its alias.

The order keeps failures clean: resolve the version and its Bento (from the local BentoML store,
else from the registry's artifact store, sha256 checked: ``lifecycle.serving.archive``), roll out
(local server or the user's command), smoke-test it, and only then move the environment's alias
(recorded in the registry's history) and record a GitHub deployment. A failure before the alias
move leaves the registry as it was.

``rollback`` is the same deploy of an earlier version, one the environment has served (from its
recorded history): redeployed and smoke-tested first, the alias moved back only after.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.deploy import local
from lifecycle.errors import LifecycleError, RegistryError
from lifecycle.github import actions
from lifecycle.registry import aliases, models
from lifecycle.serving import archive
from lifecycle.serving.bento import use_local_home
from lifecycle.settings import Settings

BENTO_TAG = "bento.tag"  # set on the model version by `lifecycle build`


@dataclass(frozen=True)
class Deployment:
    environment: str
    version: str
    bento_tag: str
    target: str
    url: str
    rolled_out: bool
    alias_moved: bool
    move: aliases.Move | None = None  # the alias move (promote or rollback) and its message
    image: str = ""  # the container image the command target was given


def deploy(
    settings: Settings,
    environment: str,
    ref: str,
    *,
    bento_tag: str | None = None,
    bento_file: Path | None = None,
    image: str = "",
    actor: str = "",
    reason: str = "",
    rollback_from: str | None = None,
) -> Deployment:
    """Roll ``ref`` out, smoke-test it, then move the alias (a promote; with ``rollback_from``,
    the version the alias points at now, a rollback, refused if the alias moved meanwhile)."""
    aliases.alias_for(settings, environment)  # an unknown environment fails before anything
    spec = settings.environments[environment].deploy
    found = models.resolve(settings, ref)
    version = str(found.version)
    tag = bento_tag or found.tags.get(BENTO_TAG)
    if not tag:
        raise RegistryError(
            f"version {version} of '{settings.model.name}' has no Bento: run "
            f"`lifecycle build --version {version}` first (it records the tag {BENTO_TAG})"
        )
    image = image or found.tags.get(archive.TAG_IMAGE, "")
    if bento_file is not None:
        import_bento(bento_file, tag)
    elif spec.target != "command" or not image:  # a command given an image needs no Bento here
        use_local_home()
        archive.ensure_local(found, tag, required=spec.target != "command")
    if spec.target == "local":
        url, rolled_out = _deploy_local(settings, environment, tag, version, spec.port)
    elif spec.target == "ssh":
        from lifecycle.deploy import ssh

        url, rolled_out = ssh.roll_out(
            settings, environment, tag, version, check=lambda url: smoke_test(url, version)
        )
    else:
        run_command(
            spec.command or "", bento_tag=tag, image=image, environment=environment, version=version
        )
        url, rolled_out = spec.url or "", True
        if url:
            smoke_test(url, version)
    if rollback_from is None:
        move = aliases.promote(settings, environment, version, actor=actor, reason=reason)
    else:
        move = aliases.rollback(
            settings, environment, version, actor=actor, reason=reason, expect=rollback_from
        )
    return Deployment(
        environment, version, tag, spec.target, url, rolled_out, move.changed, move, image
    )


def rollback(
    settings: Settings,
    environment: str,
    to: str | None = None,
    *,
    actor: str = "",
    reason: str = "",
) -> Deployment | aliases.Move:
    """Redeploy the version to roll back to (the previous one, or ``to``: one the environment
    has served) and smoke-test it; only then move the alias back. A Move when there is nothing
    to do (a rerun); a failed redeploy raises with the alias and history untouched."""
    planned = aliases.rollback_target(settings, environment, to)
    if isinstance(planned, aliases.Move):
        return planned
    current, target = planned
    return deploy(settings, environment, target, actor=actor, reason=reason, rollback_from=current)


def _deploy_local(
    settings: Settings, environment: str, tag: str, version: str, port: int | None
) -> tuple[str, bool]:
    target = local.Deployed(
        environment, 0, settings.serving.host, port or settings.serving.port, tag, version, ""
    )
    deployed, changed = local.roll_out(
        target,
        settings.serving.startup_timeout_s,
        source_home=use_local_home(),
        predictions=settings.serving.prediction_log.path,
        check=lambda url: smoke_test(url, version),
    )
    return deployed.url, changed


def import_bento(path: Path, tag: str) -> None:
    """Put an exported Bento into this host's store, unless the tag is already there."""
    use_local_home()
    archive.import_bento(path, tag)


def run_command(template: str, **values: str) -> None:
    """Run the user's deploy command; each {name} is filled in as one argument (no shell)."""
    try:
        argv = [part.format(**values) for part in shlex.split(template)]
    except (KeyError, IndexError, ValueError) as exc:
        raise LifecycleError(
            f"deploy command template {template!r} is not usable ({exc}): it may use "
            "{bento_tag}, {image}, {environment} and {version}"
        ) from None
    print("deploy command: " + shlex.join(argv), flush=True)
    try:
        done = subprocess.run(argv, check=False)
    except OSError as exc:
        raise LifecycleError(f"deploy command {argv[0]!r} could not start: {exc}") from None
    if done.returncode != 0:
        raise LifecycleError(
            f"deploy command exited with {done.returncode}; the environment's alias was not "
            "moved. Its output is above."
        )


def smoke_test(url: str, version: str) -> None:
    """The deployment answers, serves the expected version, and predicts one valid record."""
    meta = _call(f"{url}/metadata/")
    served = str(meta.get("model_version"))
    if served != version:
        raise LifecycleError(f"smoke test: {url} serves model version {served}, expected {version}")
    record = example_from_schema(meta.get("request_schema") or {})
    answer = _call(f"{url}/predict", record)
    if str(answer.get("model_version")) != version or "prediction" not in answer:
        raise LifecycleError(f"smoke test: unexpected answer from {url}/predict: {answer}")


def _call(url: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 (the deployment's own URL)
        url, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except (OSError, ValueError) as exc:
        raise LifecycleError(f"smoke test: {url} failed: {exc}") from None


def example_from_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """One valid record from the service's JSON schema: mid-range numbers, first categories."""
    record = {}
    for name, field in (schema.get("properties") or {}).items():
        options = [o for o in field.get("anyOf", [field]) if o.get("type") != "null"]
        record[name] = _example_value(options[0] if options else field)
    return record


def _example_value(field: dict[str, Any]) -> Any:
    if "enum" in field:
        return field["enum"][0]
    if "const" in field:
        return field["const"]
    if field.get("type") in ("number", "integer"):
        low = field.get("minimum", field.get("exclusiveMinimum", 0))
        high = field.get("maximum", field.get("exclusiveMaximum", low + 1))
        middle = (low + high) / 2
        return int(middle) if field["type"] == "integer" else middle
    return "x"


def record_github_deployment(deployment: Deployment, settings: Settings, image: str) -> str:
    """A GitHub deployment with status success, when a token and repository are known."""
    if not (os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")):
        return ""
    from lifecycle.github.api import GitHub

    client = GitHub.from_env()
    made = client.request(
        "POST",
        client.repo_path("/deployments"),
        {
            "ref": os.environ.get("GITHUB_SHA") or "main",
            "environment": deployment.environment,
            "auto_merge": False,
            "required_contexts": [],
            "production_environment": deployment.environment == "prod",
            "description": f"{settings.model.name} version {deployment.version}",
            "payload": {
                "model_name": settings.model.name,
                "model_version": deployment.version,
                "bento_tag": deployment.bento_tag,
                "image": image,
            },
        },
    )
    status = {"state": "success", "auto_inactive": True}
    if deployment.url:
        status["environment_url"] = deployment.url
    client.request("POST", client.repo_path(f"/deployments/{made['id']}/statuses"), status)
    actions.set_output("github-deployment-id", str(made["id"]))
    return str(made["id"])
