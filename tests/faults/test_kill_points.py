"""Killing the registry at every request of promote and rollback leaves no inconsistent state.

The command is first run uncut to count its requests; then, on a fresh model each time, the
registry is cut off right after the server applied request k (k = 1..n). Afterwards the next
command (a read) must find the alias and its history in agreement (repairing an interrupted move
and saying so), and rerunning the cut command must finish the move with exactly one entry.
"""

import os

import pytest
from fault_helpers import inconsistencies

from lifecycle.registry import aliases

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]


def promote_argv(settings):
    return ["promote", "--params", str(settings.source), "--env", "prod", "--version", "2"]


def rollback_argv(settings):
    return ["rollback", "--params", str(settings.source), "--env", "prod"]


CASES = {
    # command, the prod moves made before it, the version prod must end at, its history length
    "promote": (promote_argv, ("1",), "2", 2),
    "rollback": (rollback_argv, ("1", "2"), "1", 3),
}


def cut_and_check(case, small_model, proxy, lifecycle, k, on_cut=None, server=None):
    argv_of, promoted, final, length = CASES[case]
    settings = small_model(3, promoted)
    before = aliases.current(settings)["prod"]
    proxy.arm(k, on_cut)
    cut = lifecycle(proxy.url, *argv_of(settings))
    assert cut.code == 2, f"kill point {k}: {cut.output}"
    assert "Traceback" not in cut.output and "unreachable" in cut.output, cut.output
    if server is not None:  # the server really died: bring it back on the same store
        server.start()
        proxy.target_port = server.port
        os.environ.update(MLFLOW_TRACKING_URI=server.url, MLFLOW_REGISTRY_URI=server.url)
    proxy.arm(None)
    assert inconsistencies(settings) == [], f"kill point {k} of {case}"
    assert aliases.current(settings)["prod"] in (before, final)
    again = lifecycle(proxy.url, *argv_of(settings))
    assert again.code == 0, f"rerun after kill point {k}: {again.output}"
    assert aliases.current(settings)["prod"] == final
    assert len(aliases.history(settings, "prod")) == length
    assert inconsistencies(settings) == []
    return cut


@pytest.mark.parametrize("case", CASES)
def test_every_kill_point_leaves_a_consistent_registry(case, small_model, proxy, lifecycle):
    argv_of, promoted, _, _ = CASES[case]
    settings = small_model(3, promoted)
    proxy.arm(None)
    assert lifecycle(proxy.url, *argv_of(settings)).code == 0
    requests = list(proxy.paths)
    assert any("registered-models/alias" in path for path in requests), requests

    for k in range(1, len(requests) + 1):
        cut_and_check(case, small_model, proxy, lifecycle, k)
    print(f"{case}: {len(requests)} kill points, all consistent")


def test_a_real_crash_between_alias_and_history_is_repaired(
    small_model, proxy, lifecycle, mlflow_server, capsys
):
    """The server process itself is SIGKILLed right after it moved the alias."""
    settings = small_model(3, ("1",))
    proxy.arm(None)
    assert lifecycle(proxy.url, *promote_argv(settings)).code == 0
    alias_at = next(i for i, p in enumerate(proxy.paths, 1) if "registered-models/alias" in p)

    cut_and_check(
        "promote", small_model, proxy, lifecycle, alias_at, mlflow_server.kill, mlflow_server
    )
    assert "repaired: completed the interrupted promote" in capsys.readouterr().err
