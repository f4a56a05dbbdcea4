"""The prediction log: both sinks write the documented flat records; read_predictions reads them."""

import pytest

from lifecycle.serving.predlog import ENV_PATH, PredictionLog, now, read_predictions


def records(n, request_id="r1"):
    return [
        {"timestamp": now(), "request_id": request_id, "endpoint": "predict_batch", "index": i,
         "model_name": "m", "model_version": "3", "age": 30 + i, "income": None,
         "prediction": 1, "probability": 0.7}
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize("sink", ["jsonl", "parquet"])
def test_records_round_trip(tmp_path, monkeypatch, sink):
    monkeypatch.delenv(ENV_PATH, raising=False)
    log = PredictionLog(sink, tmp_path / "predictions")
    log.write(records(3))
    log.write(records(2, "r2"))
    log.close()
    frame = read_predictions(tmp_path / "predictions")
    assert len(frame) == 5
    assert list(frame["request_id"]) == ["r1"] * 3 + ["r2"] * 2
    assert frame["model_version"].astype(str).unique().tolist() == ["3"]
    assert frame["income"].isna().all()


def test_off_writes_nothing_and_the_environment_overrides_the_folder(tmp_path, monkeypatch):
    PredictionLog("off", tmp_path / "a").write(records(1))
    assert not (tmp_path / "a").exists()
    monkeypatch.setenv(ENV_PATH, str(tmp_path / "b"))
    PredictionLog("jsonl", tmp_path / "a").write(records(1))
    assert len(read_predictions(tmp_path / "b")) == 1


def test_an_empty_folder_reads_as_an_empty_frame(tmp_path):
    assert read_predictions(tmp_path).empty
