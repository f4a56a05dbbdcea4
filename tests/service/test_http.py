"""The served Bento over HTTP: predictions, metadata, health, the prediction log, bad requests."""

import json
import random
import urllib.error
import urllib.request

import pytest

from lifecycle.serving.payloads import bad_requests, random_record
from lifecycle.serving.predlog import read_predictions

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def call(url, path, body=None, headers=None, method=None):
    """(status, headers, parsed JSON body or text); never raises for an HTTP status."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    sent.update(headers or {})
    request = urllib.request.Request(url + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, head, raw = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, error.headers, error.read()
    try:
        return status, head, json.loads(raw)
    except ValueError:
        return status, head, raw.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def schema(served):
    return call(served.url, "/metadata")[2]["request_schema"]


@pytest.fixture
def record(schema):
    return random_record(schema, random.Random(5))


def test_health_endpoints_answer(served):
    for path in ("/healthz", "/livez", "/readyz"):
        assert call(served.url, path)[0] == 200


def test_metadata_names_the_model_and_its_hash(served, serving_world):
    status, headers, meta = call(served.url, "/metadata")
    assert status == 200
    assert meta["model_version"] == serving_world.version
    assert meta["sha256"] == serving_world.sha256
    assert headers["x-model-version"] == serving_world.version
    assert set(meta["request_schema"]["properties"]) == set(
        serving_world.settings.data.features.all
    )


def test_predict_answers_with_the_model_version_and_the_request_id(served, serving_world, record):
    status, headers, answer = call(served.url, "/predict", record, {"X-Request-ID": "abc-123"})
    assert status == 200, answer
    assert answer["model_version"] == serving_world.version
    assert headers["x-model-version"] == serving_world.version
    assert answer["request_id"] == headers["x-request-id"] == "abc-123"
    assert 0 <= answer["probability"] <= 1


def test_served_probabilities_equal_the_model_s_own(served, serving_world, schema):
    """The service feeds the model what training fed it (types, missing values)."""
    import mlflow.sklearn
    import pandas as pd

    from lifecycle.registry import trusted_models
    from lifecycle.train import model_input

    rows = [random_record(schema, random.Random(seed)) for seed in range(30)]
    status, _, answer = call(served.url, "/predict_batch", {"records": rows})
    assert status == 200, answer
    store = serving_world.root / "bentoml" / "models"
    (folder,) = [p for p in store.glob("*/*/mlflow") if serving_world.sha256[:12] in str(p)]
    with trusted_models():
        model = mlflow.sklearn.load_model(str(folder))
    frame = model_input(pd.DataFrame(rows), serving_world.settings)
    local = model.predict_proba(frame)[:, list(model.classes_).index(1)]
    assert [p["probability"] for p in answer["predictions"]] == pytest.approx(list(local))


def test_every_prediction_is_logged(served, serving_world, record):
    body = {"records": [record, record]}
    status, _, _ = call(served.url, "/predict_batch", body, {"X-Request-ID": "logged-batch"})
    assert status == 200
    frame = read_predictions(serving_world.root / "predictions")
    mine = frame[frame["request_id"] == "logged-batch"]
    assert list(mine["index"]) == [0, 1]
    assert set(mine["endpoint"]) == {"predict_batch"}
    assert set(mine["model_version"].astype(str)) == {serving_world.version}
    for column in [*serving_world.settings.data.features.all, "prediction", "probability"]:
        assert column in mine.columns


def test_every_bad_request_gets_a_4xx_with_a_message(served, schema, record):
    for case in bad_requests(schema, record):
        headers = {"Content-Type": case.content_type} if case.content_type else {}
        request = urllib.request.Request(served.url + case.path, data=case.body, headers=headers)
        if not case.content_type:
            request.remove_header("Content-type")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        assert 400 <= status < 500, f"{case.name}: {status} {raw[:300]!r}"
        assert json.loads(raw)["error"], case.name


def test_an_oversized_body_gets_413(served, serving_world, record):
    limit = serving_world.settings.serving.max_body_bytes
    body = json.dumps({"records": [record] * (limit // len(json.dumps(record)) + 1)}).encode()
    assert len(body) > limit
    status, _, answer = call(served.url, "/predict_batch", body)
    assert status == 413 and "bytes" in answer["error"]


def test_too_many_records_in_one_request_get_400(served, record):
    status, _, answer = call(served.url, "/predict_batch", {"records": [record] * 1001})
    assert status in (400, 413), answer
