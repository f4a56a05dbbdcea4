"""The prediction log: both sinks write the documented flat records, from a background thread,
and ``close`` writes everything queued; read_predictions reads them."""

import json
import threading

import pytest

from lifecycle.serving.predlog import ENV_PATH, Entry, PredictionLog, now, read_predictions

MODEL = {"model_name": "m", "model_version": "3"}


def entry(n, request_id="r1"):
    rows = [{"age": 30 + i, "income": None, "housing": "own"} for i in range(n)]
    return Entry(now(), request_id, "predict_batch", rows, [(1, 0.7)] * n)


@pytest.mark.parametrize("sink", ["jsonl", "parquet"])
def test_records_round_trip(tmp_path, monkeypatch, sink):
    monkeypatch.delenv(ENV_PATH, raising=False)
    log = PredictionLog(sink, tmp_path / "predictions", MODEL)
    log.write(entry(3))
    log.write(entry(2, "r2"))
    log.close()
    frame = read_predictions(tmp_path / "predictions")
    assert len(frame) == 5
    assert list(frame["request_id"]) == ["r1"] * 3 + ["r2"] * 2
    assert list(frame["index"]) == [0, 1, 2, 0, 1]
    assert frame["model_version"].astype(str).unique().tolist() == ["3"]
    assert frame["income"].isna().all()
    assert list(frame["age"]) == [30, 31, 32, 30, 31]
    assert set(frame["prediction"]) == {1}
    assert frame["probability"].tolist() == pytest.approx([0.7] * 5)


def test_a_json_line_is_the_documented_record(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_PATH, raising=False)
    log = PredictionLog("jsonl", tmp_path, MODEL)
    log.write(Entry("t", "r", "predict", [{"note": 'a "quoted", {odd} text'}], [("yes", 0.25)]))
    log.close()
    (path,) = tmp_path.glob("*.jsonl")
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "timestamp": "t", "request_id": "r", "endpoint": "predict", "index": 0,
        "model_name": "m", "model_version": "3", "note": 'a "quoted", {odd} text',
        "prediction": "yes", "probability": 0.25,
    }  # fmt: skip


@pytest.mark.parametrize("sink", ["jsonl", "parquet"])
def test_close_writes_everything_queued_from_many_threads(tmp_path, monkeypatch, sink):
    """Nothing is lost at shutdown: every row written before close is in the log."""
    monkeypatch.delenv(ENV_PATH, raising=False)
    log = PredictionLog(sink, tmp_path, MODEL)

    def writer(name):
        for i in range(50):
            log.write(entry(7, f"{name}-{i}"))

    threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    frame = read_predictions(tmp_path)
    assert len(frame) == 4 * 50 * 7
    assert frame["request_id"].nunique() == 4 * 50


def test_off_writes_nothing_and_the_environment_overrides_the_folder(tmp_path, monkeypatch):
    log = PredictionLog("off", tmp_path / "a")
    log.write(entry(1))
    log.close()
    assert not (tmp_path / "a").exists()
    monkeypatch.setenv(ENV_PATH, str(tmp_path / "b"))
    log = PredictionLog("jsonl", tmp_path / "a")
    log.write(entry(1))
    log.close()
    assert len(read_predictions(tmp_path / "b")) == 1


def test_an_empty_folder_reads_as_an_empty_frame(tmp_path):
    assert read_predictions(tmp_path).empty


def test_each_log_writes_its_own_files_even_with_the_same_pid(tmp_path, monkeypatch):
    """Workers (or a restarted container's process with a recycled pid) never share a file."""
    monkeypatch.delenv(ENV_PATH, raising=False)
    for sink in ("parquet", "parquet", "jsonl", "jsonl"):
        log = PredictionLog(sink, tmp_path, MODEL)
        log.write(entry(2))
        log.close()
    assert len(list(tmp_path.iterdir())) == 4
    assert len(read_predictions(tmp_path)) == 8
