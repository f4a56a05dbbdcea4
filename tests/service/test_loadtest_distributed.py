"""The load-test gate with Locust distributed: a master and two workers on loopback.

Runs against the session's served Bento (``served``); the gate judges the statistics the master
merged from both workers, and a threshold that cannot be met still fails it.
"""

import csv
import json

import pytest

from lifecycle.serving.loadtest import CSV_PREFIX

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKERS = {"gates": {"loadtest": {"workers": 2}}}


def aggregated_requests(out):
    with (out / f"{CSV_PREFIX}_stats.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return int(next(row for row in rows if row["Name"] == "Aggregated")["Request Count"])


def test_two_workers_share_the_load_and_the_gate_judges_the_merged_stats(
    serving_world, served, tmp_path
):
    params = serving_world.params_with(WORKERS, "workers.yaml")
    out = tmp_path / "reports"
    done = serving_world.cli(
        "loadtest", "--params", str(params), "--url", served.url, "--reports", str(out)
    )
    assert done.returncode == 0, done.stdout + done.stderr

    per_worker = json.loads((out / f"{CSV_PREFIX}_workers.json").read_text())
    assert len(per_worker) == 2 and all(count > 0 for count in per_worker.values())
    assert sum(per_worker.values()) == aggregated_requests(out)  # merged from both, nothing else
    report = json.loads((out / "loadtest.json").read_text())
    assert report["passed"]
    details = report["results"][0]["details"]
    assert sorted(details["requests_per_worker"]) == sorted(per_worker.values())
    assert "A Locust master and 2 workers" in (out / "loadtest.md").read_text()


def test_a_threshold_the_merged_stats_miss_fails_the_gate(serving_world, served, tmp_path):
    tight = {"gates": {"loadtest": {"workers": 2, "p95_ms": 0.001}}}
    params = serving_world.params_with(tight, "workers-tight.yaml")
    out = tmp_path / "reports"
    done = serving_world.cli(
        "loadtest", "--params", str(params), "--url", served.url, "--reports", str(out)
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate 'loadtest' (mode enforce): p95 latency: p95_ms = " in done.stderr
    assert "Traceback" not in done.stderr
    assert len(json.loads((out / f"{CSV_PREFIX}_workers.json").read_text())) == 2
