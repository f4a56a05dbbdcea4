"""`lifecycle kubernetes` writes an environment's Deployment and Service, valid against the
Kubernetes JSON schemas (kubernetes-validate, offline: no cluster is involved)."""

from __future__ import annotations

import copy
import shlex
import sys

import kubernetes_validate
import pytest
import yaml

from lifecycle import cli
from lifecycle.deploy import deployment
from lifecycle.errors import ConfigError
from lifecycle.settings import load_settings

IMAGE = "ghcr.io/acme/credit@sha256:" + "ab" * 32
# the oldest Kubernetes release still served by the main cloud providers, and the newest schema
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())


def render(params, out, *extra, env="prod"):
    words = ["kubernetes", "--params", str(params), "--env", env, "--out", str(out), *extra]
    return cli.main(words)


def read(folder):
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*"))}


def valid(manifest, version):
    """The schema version it was checked against; raises kubernetes_validate.ValidationError."""
    return kubernetes_validate.validate(manifest, version, strict=True)


@pytest.fixture
def rendered(params_file, tmp_path):
    params = params_file({"environments": {"prod": {"deploy": {"replicas": 3, "port": 8080}}}})
    assert render(params, tmp_path / "k8s", "--image", IMAGE, "--version", "7") == 0
    return read(tmp_path / "k8s")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_rendered_manifests_are_valid_kubernetes(rendered, version):
    assert sorted(rendered) == ["deployment.yaml", "service.yaml"]
    for manifest in rendered.values():
        assert valid(manifest, version) == kubernetes_validate.utils.major_minor(version)


@pytest.mark.parametrize(
    ("break_it", "complaint"),
    [
        (lambda d: d["spec"].update(replicaz=2), "'replicaz' was unexpected"),
        (lambda d: d["spec"].update(replicas="two"), "'two' is not of type 'integer'"),
        (lambda d: d["spec"].pop("selector"), "'selector' is a required property"),
        (lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("name"), "'name'"),
    ],
    ids=["unknown-field", "wrong-type", "no-selector", "container-without-name"],
)
def test_a_broken_manifest_fails_the_schema_check(rendered, break_it, complaint):
    broken = copy.deepcopy(rendered["deployment.yaml"])
    break_it(broken)
    with pytest.raises(kubernetes_validate.ValidationError) as raised:
        valid(broken, KUBERNETES_VERSIONS[-1])
    assert complaint in raised.value.message


def test_the_deployment_serves_the_image_with_probes_resources_and_labels(rendered):
    spec = rendered["deployment.yaml"]["spec"]
    pod = spec["template"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == IMAGE
    assert container["ports"] == [{"name": "http", "containerPort": 3000}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert spec["replicas"] == 3  # environments.prod.deploy.replicas
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "credit-default"
    assert labels["app.kubernetes.io/version"] == "7"
    assert labels["lifecycle/environment"] == "prod"
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert "app.kubernetes.io/version" not in spec["selector"]["matchLabels"]  # immutable


def test_the_service_selects_the_pods_on_the_environments_port(rendered):
    service = rendered["service.yaml"]
    pod_labels = rendered["deployment.yaml"]["spec"]["template"]["metadata"]["labels"]
    assert service["metadata"]["name"] == rendered["deployment.yaml"]["metadata"]["name"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http"}]


def test_defaults_two_replicas_port_80_and_no_version_label(params_file, tmp_path):
    params = params_file(remove=["environments.dev.deploy.port"])
    assert render(params, tmp_path / "k8s", "--image", IMAGE, env="dev") == 0
    manifests = read(tmp_path / "k8s")
    assert manifests["deployment.yaml"]["spec"]["replicas"] == 2
    assert manifests["service.yaml"]["spec"]["ports"][0]["port"] == 80
    assert "app.kubernetes.io/version" not in manifests["deployment.yaml"]["metadata"]["labels"]


def test_a_deploy_command_template_fills_the_verbs_flags(settings, tmp_path):
    """The command target's template, as the docs show it (kubectl left out), run by deploy's
    own runner: {environment}, {image} and {version} reach the verb."""
    template = (
        f"sh -c '{shlex.quote(sys.executable)} -m lifecycle kubernetes "
        f"--params {settings.source} --env {{environment}} --image {{image}} "
        f"--version {{version}} --out {tmp_path}/k8s/{{environment}}'"
    )
    deployment.run_command(
        template, bento_tag="credit:abc", image=IMAGE, environment="staging", version="12"
    )
    manifests = read(tmp_path / "k8s" / "staging")
    pod = manifests["deployment.yaml"]["spec"]["template"]
    assert pod["spec"]["containers"][0]["image"] == IMAGE
    assert pod["metadata"]["labels"]["app.kubernetes.io/version"] == "12"
    assert manifests["deployment.yaml"]["metadata"]["name"] == "credit-default-staging"


@pytest.mark.parametrize(
    ("extra", "env", "named"),
    [
        (["--image", IMAGE], "qa", "pass one of them to --env"),
        ([], "prod", "pass --image"),
        (["--image", ""], "prod", "pass --image"),  # deploy's {image} when none is recorded
        (["--image", "a b"], "prod", "pass --image"),
    ],
    ids=["unknown-environment", "no-image", "empty-image", "image-with-a-space"],
)
def test_bad_input_is_exit_2_naming_the_flag_and_writes_nothing(
    settings, tmp_path, capsys, extra, env, named
):
    assert render(settings.source, tmp_path / "k8s", *extra, env=env) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    assert not (tmp_path / "k8s").exists()


def test_a_failed_render_leaves_the_previous_manifests_whole(settings, tmp_path, capsys):
    out = tmp_path / "k8s"
    assert render(settings.source, out, "--image", IMAGE) == 0
    before = {path.name: path.read_text() for path in out.iterdir()}
    assert render(settings.source, out, "--image", "") == 2
    assert {path.name: path.read_text() for path in out.iterdir()} == before  # no temp file


def test_out_naming_a_file_is_exit_2(settings, tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    assert render(settings.source, tmp_path / "taken", "--image", IMAGE) == 2
    assert "pass a folder" in capsys.readouterr().err


def test_a_model_name_too_long_for_kubernetes_is_named(params_file, tmp_path, capsys):
    params = params_file({"model": {"name": "credit-" + "x" * 60}})
    assert render(params, tmp_path / "k8s", "--image", IMAGE) == 2
    err = capsys.readouterr().err
    assert "shorten or rename model.name" in err and "at most 63" in err
    assert not (tmp_path / "k8s").exists()


def test_replicas_below_one_are_refused(params_file):
    params = params_file({"environments": {"dev": {"deploy": {"replicas": 0}}}})
    with pytest.raises(ConfigError) as raised:
        load_settings(params)
    assert "environments.dev.deploy.replicas" in str(raised.value)
