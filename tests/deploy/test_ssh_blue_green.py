"""Target ssh, strategy blue-green: the switch drops no request, a rollback is a switch back.

Requests run against the public port (nginx) the whole time a new version is deployed and while
it is rolled back with the real `lifecycle rollback`; not one may fail, and both versions must
have answered (the switch happened under traffic). The old slot stays warm, so the rollback
starts no server: it only points nginx back.
"""

from __future__ import annotations

import pytest
from ssh_world import Hammer, alias_and_history, ok, served_version

from lifecycle.settings import load_settings

pytestmark = [pytest.mark.deploy, pytest.mark.integration, pytest.mark.slow]


def test_blue_green_switches_without_a_failed_request_and_rolls_back_by_switching(project):
    params = project.params("staging", strategy="blue-green")
    ok(project.cli(params, "deploy", "--env", "staging", "--bootstrap"))
    public = f"http://127.0.0.1:{load_settings(params).environments['staging'].deploy.port}"
    ok(project.cli(params, "deploy", "--env", "staging", "--version", "1"))

    with Hammer(public) as during_deploy:
        ok(project.cli(params, "deploy", "--env", "staging", "--version", "2"))
    assert during_deploy.failed == [], during_deploy.failed[:3]
    assert during_deploy.versions == {"1", "2"}, during_deploy.versions
    assert served_version(public) == "2"
    status = project.host_status(params, "staging")
    assert status["live"] == "green"
    assert status["slots"]["blue"]["ready"] and status["slots"]["blue"]["version"] == "1"  # warm

    with Hammer(public) as during_rollback:
        rolled = ok(project.cli(params, "rollback", "--env", "staging", "--reason", "bad model"))
    assert "(warm): switching back" in rolled.stdout and "starting" not in rolled.stdout
    assert during_rollback.failed == [], during_rollback.failed[:3]
    assert served_version(public) == "1"
    alias, history = alias_and_history(project, params, "staging")
    assert alias == "1"
    assert [(e["action"], e["to"]) for e in history][-1] == ("rollback", "1")
    assert project.host_status(params, "staging")["slots"]["green"]["ready"]  # 2 stays warm in turn
