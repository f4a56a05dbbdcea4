"""Several worker processes (``serving.workers``, 2 in these tests' Bento): ``/readyz`` is ready
only while every worker is up, every request is answered and logged exactly once across the
workers' files, and the batch endpoint still validates."""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import psutil
import pytest
import yaml
from test_http import call

import fixtures
from lifecycle.errors import ConfigError
from lifecycle.serving import server
from lifecycle.serving.payloads import random_record
from lifecycle.serving.predlog import read_predictions
from lifecycle.serving.workers import Roll, count
from lifecycle.settings import load_settings

REQUESTS = 120
# the worker's pid in a prediction log file's name: predictions-<date>-<pid>-<token>.jsonl
LOG_PID = re.compile(r"^predictions-\d{4}-\d{2}-\d{2}-(\d+)-[0-9a-f]+\.jsonl$")


@pytest.fixture(scope="module")
def two_workers(serving_world, tmp_path_factory) -> Iterator[tuple[server.Server, Path]]:
    """The session's Bento in its own server (it is stopped by a test), logging to its folder."""
    folder = tmp_path_factory.mktemp("workers")
    started = server.start(
        serving_world.bento_tag, "127.0.0.1", 0, folder / "server.log", folder / "predictions",
        serving_world.env,
    )  # fmt: skip
    try:
        server.wait_ready(started, serving_world.settings.serving.startup_timeout_s)
        yield started, folder / "predictions"
    finally:
        server.stop(started)


def test_the_roll_is_complete_only_when_every_slot_names_a_live_process(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, second = Roll(2, 1, server_pid=1), Roll(2, 2, server_pid=1)
    first.sign()
    assert not first.complete()  # slot 2 has not signed
    second.sign()
    assert first.complete() and first.pids() == [os.getpid()] * 2
    (second.folder / "2").write_text("0")  # a worker that died: its pid is no process
    assert not first.complete()
    second.sign()  # its replacement
    first.leave()
    assert not second.complete() and second.folder.exists()
    second.leave()
    assert not second.folder.exists()  # the last worker out removes the folder


@pytest.mark.parametrize(("workers", "ok"), [(2, True), ("cpu_count", True), (0, False),
                                             ("many", False)])  # fmt: skip
def test_serving_workers_is_a_positive_number_or_cpu_count(tmp_path, workers, ok):
    params = fixtures.write_params(
        tmp_path / "params.yaml", tmp_path / "data.csv", {"serving": {"workers": workers}}
    )
    if ok:
        assert load_settings(params).serving.workers == workers
    else:
        with pytest.raises(ConfigError, match=r"serving\.workers"):
            load_settings(params)


def test_cpu_count_is_bentomls_count_and_a_number_is_itself():
    assert count(3) == 3
    assert 1 <= count("cpu_count") <= (os.cpu_count() or 1)


@pytest.fixture(scope="module")
def worker_count(serving_world) -> int:
    """The worker count these tests' Bento was built with (tests/service/conftest.py)."""
    workers = serving_world.settings.serving.workers
    assert workers == 2, "the serving tests' Bento should run two workers"
    return workers


def roll(running: server.Server, workers: int) -> Roll:
    return Roll(workers, 1, server_pid=running.process.pid)


def worker_pids(running: server.Server) -> set[int]:
    children = psutil.Process(running.process.pid).children()
    return {c.pid for c in children if "_bentoml_impl.worker.service" in " ".join(c.cmdline())}


def kill(pid: int) -> None:
    """SIGKILL ``pid`` and wait until it has died (gone, or a zombie left to its parent)."""
    process = psutil.Process(pid)
    process.kill()
    with suppress(psutil.NoSuchProcess):
        while process.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)


@pytest.mark.integration
@pytest.mark.slow
def test_the_bento_asks_for_its_workers(serving_world, worker_count):
    bento = Path(serving_world.env["BENTOML_HOME"], "bentos", *serving_world.bento_tag.split(":"))
    assert yaml.safe_load((bento / "bento.yaml").read_text())["args"]["workers"] == worker_count


@pytest.mark.integration
@pytest.mark.slow
def test_ready_means_every_worker_is_up_and_not_while_one_is_down(two_workers, worker_count):
    running, _ = two_workers
    pids = worker_pids(running)
    assert len(pids) == worker_count
    # every worker signed in before /readyz said 200
    assert set(roll(running, worker_count).pids()) == pids
    victim = roll(running, worker_count).pids()[-1]
    kill(victim)
    statuses = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not statuses or statuses[-1] != 200):
        statuses.append(call(running.url, "/readyz")[0])
        time.sleep(0.05)
    assert statuses[0] == 503  # the other worker answers: not ready while one is down
    assert statuses[-1] == 200  # ready again once the replacement has loaded the model
    replaced = roll(running, worker_count).pids()
    assert victim not in replaced
    assert set(replaced) == worker_pids(running)


@pytest.mark.integration
@pytest.mark.slow
def test_the_batch_endpoint_still_validates_on_every_worker(two_workers):
    running, _ = two_workers
    schema = call(running.url, "/metadata")[2]["request_schema"]
    good = random_record(schema, random.Random(3))
    name = next(iter(good))
    bad = {**good, name: [1, 2]}  # a list is no feature's type
    for attempt in range(10):  # several connections, so both workers answer some
        status, _, body = call(running.url, "/predict_batch", {"records": [good, bad]})
        assert status == 400, body
        assert {tuple(issue["loc"][:3]) for issue in body["detail"]} == {("records", 1, name)}
        assert call(running.url, "/predict_batch", {"records": []})[0] == 400
        status, _, body = call(running.url, "/predict_batch", {"records": [good] * 3})
        assert status == 200 and len(body["predictions"]) == 3, (attempt, body)


@pytest.mark.integration
@pytest.mark.slow
def test_every_request_is_answered_and_logged_once_across_the_workers(two_workers):
    running, folder = two_workers
    schema = call(running.url, "/metadata")[2]["request_schema"]
    rng = random.Random(9)
    sent = {f"workers-{n}": random_record(schema, rng) for n in range(REQUESTS)}

    def predict(request_id: str) -> tuple[int, str]:
        status, headers, _ = call(
            running.url, "/predict", sent[request_id], {"X-Request-ID": request_id}
        )
        return status, headers["X-Request-ID"]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(predict, sent))
    assert answers == [(200, request_id) for request_id in sent]
    pids = worker_pids(running)
    assert server.stop(running) is not None  # every worker writes what it queued, then exits
    frame = read_predictions(folder)
    mine = frame[frame["request_id"].str.startswith("workers-")]
    assert sorted(mine["request_id"]) == sorted(sent)  # every request, exactly once
    files = sorted(folder.glob("*.jsonl"))
    writers = {int(LOG_PID.match(f.name).group(1)) for f in files}
    assert writers <= pids  # each file is one worker's
    assert len(files) == len(writers)  # and each worker wrote one file
