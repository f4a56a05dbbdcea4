"""environments.<env>.deploy: what target ssh and the strategies need, refused when missing."""

from __future__ import annotations

import pytest

from lifecycle.errors import ConfigError
from lifecycle.settings import load_settings


def with_deploy(params_file, deploy):
    if "port" not in deploy:  # the fixture's dev has a port of its own
        return params_file(
            {"environments": {"dev": {"deploy": deploy}}}, remove=["environments.dev.deploy.port"]
        )
    return params_file({"environments": {"dev": {"deploy": deploy}}})


def test_ssh_with_blue_green_and_its_defaults(params_file):
    params = with_deploy(params_file, {"target": "ssh", "port": 8080, "strategy": "blue-green"})
    spec = load_settings(params).environments["dev"].deploy
    assert (spec.target, spec.strategy, spec.port) == ("ssh", "blue-green", 8080)
    assert spec.ssh.slot_ports == (8001, 8002) and spec.ssh.python is None


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        ({"target": "ssh"}, "target 'ssh' needs 'port'"),
        ({"target": "ssh", "port": 8001}, "three different ports"),
        ({"target": "ssh", "port": 80, "ssh": {"slot_ports": [81, 81]}}, "three different"),
        ({"target": "local", "strategy": "blue-green"}, "strategy 'blue-green' needs target"),
        ({"target": "ssh", "port": 80, "strategy": "canary"}, "strategy"),
        ({"target": "ssh", "port": 80, "ssh": {"slot_ports": [81, 70000]}}, "slot_ports"),
    ],
    ids=["no-port", "port-is-a-slot", "same-slots", "blue-green-local", "unknown", "bad-port"],
)
def test_what_a_deploy_section_lacks_is_named(params_file, deploy, message):
    params = with_deploy(params_file, deploy)
    with pytest.raises(ConfigError) as raised:
        load_settings(params)
    assert message in str(raised.value) and "environments.dev.deploy" in str(raised.value)
