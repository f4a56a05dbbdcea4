"""A registry that is down, or that accepts connections and never answers, is named as such:
exit 2, "registry at URL unreachable after N tries in T s", within the bound; never a missing
model, never an empty history, never a traceback.
"""

import socket

import pytest
from fault_helpers import TIMEOUT_S

pytestmark = [pytest.mark.faults, pytest.mark.integration]
# process start and the CLI's own work on top of the registry's bound (generous: a busy runner)
SLACK_S = 30


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield listener.getsockname()[1]


VERBS = [
    ["history"],
    ["promote", "--env", "prod", "--version", "1"],
    ["rollback", "--env", "prod"],
]


@pytest.mark.parametrize("port_kind", ["closed_port", "silent_port"])
@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
def test_a_dead_registry_is_named_within_the_bound(verb, port_kind, request, settings, lifecycle):
    url = f"http://127.0.0.1:{request.getfixturevalue(port_kind)}"
    done = lifecycle(url, verb[0], "--params", str(settings.source), *verb[1:])
    assert done.code == 2, done.output
    assert f"registry at {url} unreachable after 2 tries in {TIMEOUT_S} s" in done.output
    assert "Traceback" not in done.output
    assert "no registered model" not in done.output and "is recorded yet" not in done.output
    assert done.seconds < int(TIMEOUT_S) + SLACK_S, f"took {done.seconds:.0f} s"
