"""`lifecycle loadtest`: Locust against the Bento on loopback, as a gate that blocks."""

import json
import re
import socket

import pytest

from lifecycle.serving import server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def served_port(log):
    found = re.search(r"http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
    assert found, f"no listening address in {log}"
    return int(found.group(1))


def test_the_gate_passes_and_writes_its_reports(serving_world, tmp_path):
    out = tmp_path / "reports"
    done = serving_world.cli(
        "loadtest", "--params", str(serving_world.params), "--reports", str(out)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("loadtest_stats.csv", "loadtest.html", "loadtest.md", "loadtest.json"):
        assert (out / name).is_file(), name
    report = json.loads((out / "loadtest.json").read_text())
    assert report["passed"] and report["mode"] == "enforce"
    assert {r["metric"] for r in report["results"]} == {"p95_ms", "error_rate", "rps"}
    assert "✅ pass" in (out / "loadtest.md").read_text()
    assert not listening(served_port(out / "loadtest-server.log"))


def test_an_impossible_threshold_fails_with_the_reason_and_stops_the_server(
    serving_world, tmp_path
):
    params = serving_world.params_with({"gates": {"loadtest": {"p95_ms": 0.001}}}, "tight.yaml")
    out = tmp_path / "reports"
    done = serving_world.cli("loadtest", "--params", str(params), "--reports", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate 'loadtest' (mode enforce): p95 latency: p95_ms = " in done.stderr
    assert "(threshold 0.001)" in done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads((out / "loadtest.json").read_text())["passed"] is False
    assert not listening(served_port(out / "loadtest-server.log"))


def test_mode_off_runs_nothing(serving_world, tmp_path):
    params = serving_world.params_with({"gates": {"loadtest": {"mode": "off"}}}, "off.yaml")
    out = tmp_path / "reports"
    done = serving_world.cli("loadtest", "--params", str(params), "--reports", str(out))
    assert done.returncode == 0, done.stderr
    assert not (out / "loadtest-server.log").exists()
    assert "off" in (out / "loadtest.md").read_text()


def test_the_server_is_stopped_when_the_block_fails(serving_world, tmp_path):
    world, log = serving_world, tmp_path / "serve.log"
    timeout = world.settings.serving.startup_timeout_s
    with (
        pytest.raises(RuntimeError, match="boom"),
        server.running(world.bento_tag, "127.0.0.1", 0, log, timeout, env=world.env) as running,
    ):
        process = running.process
        raise RuntimeError("boom")
    assert process.poll() is not None
    assert not listening(served_port(log))
