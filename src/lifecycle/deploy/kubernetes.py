"""One environment's deploy as Kubernetes manifests: a Deployment of the Bento's image and a
Service in front of it, plain YAML for ``kubectl apply`` (which a ``command`` target runs).

Nothing here talks to a cluster: ``render`` only writes files. The tests validate what it writes
against the Kubernetes JSON schemas, offline; no test applies it to a live cluster.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from lifecycle.errors import ConfigError, UsageError
from lifecycle.gates.result import write_text
from lifecycle.settings import Settings

CONTAINER_PORT = 3000  # where a containerized Bento serves (BentoML's default)
SERVICE_PORT = 80  # the Service's port when the environment's deploy.port is not set
PROBE_PERIOD_S = 5
# what one pod asks for: the scheduler reserves the requests; the memory limit stops a leaking
# pod before it starves its node; no CPU limit, so a busy pod is not throttled while cores idle
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
NAME_LIMIT = 63  # a Service's name is a DNS-1035 label: at most 63 characters
HEADER = (
    "# Written by `lifecycle kubernetes --env {environment}` from {source}: change the settings\n"
    "# and render again rather than editing this file.\n"
)


def default_out(environment: str) -> Path:
    return Path("k8s") / environment


def manifests(
    settings: Settings, environment: str, image: str, version: int | None = None
) -> dict[str, dict[str, Any]]:
    """File name -> manifest: the environment's Deployment and Service."""
    if environment not in settings.environments:
        known = ", ".join(settings.environments)
        raise UsageError(
            f"unknown environment '{environment}': {settings.source} lists {known} "
            "(environments section); pass one of them to --env"
        )
    if not image or any(character.isspace() for character in image):
        raise UsageError(
            f"no usable image ({image!r}): pass --image with the Bento's container image, e.g. "
            "ghcr.io/owner/repo@sha256:<digest>. In a deploy command, {image} is the image "
            "`lifecycle build --record-image` recorded on the version (or `lifecycle deploy "
            "--image`)"
        )
    spec = settings.environments[environment].deploy
    name = object_name(settings, environment)
    selector = {
        "app.kubernetes.io/name": label_value(settings.model.name),
        "app.kubernetes.io/instance": name,
    }
    labels = {
        **selector,
        "app.kubernetes.io/managed-by": "lifecycle",
        "lifecycle/environment": label_value(environment),
    }
    if version is not None:
        labels["app.kubernetes.io/version"] = str(version)
    metadata = {"name": name, "labels": labels}
    return {
        "deployment.yaml": _deployment(settings, metadata, selector, image, spec.replicas),
        "service.yaml": _service(metadata, selector, spec.port or SERVICE_PORT),
    }


def _deployment(
    settings: Settings,
    metadata: dict[str, Any],
    selector: dict[str, str],
    image: str,
    replicas: int,
) -> dict[str, Any]:
    def probe(path: str, failures: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": "http"},
            "periodSeconds": PROBE_PERIOD_S,
            "failureThreshold": failures,
        }

    # liveness waits for startup, which may take serving.startup_timeout_s (loading the model)
    startup_failures = max(1, math.ceil(settings.serving.startup_timeout_s / PROBE_PERIOD_S))
    container = {
        "name": "bento",
        "image": image,
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT}],
        "startupProbe": probe("/livez", startup_failures),
        "readinessProbe": probe("/readyz", 3),  # 200 once every worker has loaded the model
        "livenessProbe": probe("/livez", 3),
        "resources": RESOURCES,
        "securityContext": {"allowPrivilegeEscalation": False},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            # a new pod serves (ready) before an old one stops: no gap in a rollout
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": dict(metadata["labels"])},
                "spec": {"containers": [container]},
            },
        },
    }


def _service(metadata: dict[str, Any], selector: dict[str, str], port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": port, "targetPort": "http"}],
        },
    }


def object_name(settings: Settings, environment: str) -> str:
    """``<model>-<environment>`` as a DNS-1035 label (a Service's name): lower case letters,
    digits and '-', starting with a letter; refused when too long rather than cut."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{settings.model.name}-{environment}".lower()).strip("-")
    if not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name) or len(name) > NAME_LIMIT:
        raise ConfigError(
            f"{settings.source}: model.name '{settings.model.name}' and environment "
            f"'{environment}' make the Kubernetes name '{name}', which must start with a letter "
            f"and have at most {NAME_LIMIT} characters: shorten or rename model.name"
        )
    return name


def label_value(value: str) -> str:
    """``value`` as a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.',
    beginning and ending with a letter or digit."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-._")
    return cleaned[:NAME_LIMIT].rstrip("-._")


def render(
    settings: Settings,
    environment: str,
    image: str,
    version: int | None = None,
    out: Path | None = None,
) -> list[Path]:
    """Write the environment's manifests to ``out`` (default k8s/<environment>); each file is
    written whole (a temporary file renamed), and none is written when rendering fails."""
    documents = manifests(settings, environment, image, version)
    folder = out or default_out(environment)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder} is a file: pass a folder for the manifests")
    folder.mkdir(parents=True, exist_ok=True)
    header = HEADER.format(environment=environment, source=settings.source)
    written = []
    for filename, document in documents.items():
        text = header + yaml.safe_dump(document, sort_keys=False)
        write_text(folder / filename, text)
        written.append(folder / filename)
    return written
