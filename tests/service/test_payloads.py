"""The load test's and the tests' requests: random valid records, and bad ones for many reasons."""

import json
import random

import pytest
from pydantic import ValidationError

from lifecycle.serving.payloads import JSON, bad_requests, random_record
from lifecycle.serving.spec import FeatureSpec, request_model

FEATURES = (
    FeatureSpec(name="age", kind="integer", minimum=18, maximum=100),
    FeatureSpec(name="income", kind="number", nullable=True, minimum=0, maximum=1e6),
    FeatureSpec(name="housing", kind="category", categories=("rent", "own")),
    FeatureSpec(name="note", kind="category", nullable=True),
)
MODEL = request_model(FEATURES)
SCHEMA = MODEL.model_json_schema()


def test_random_records_are_valid():
    rng = random.Random(3)
    for _ in range(200):
        MODEL.model_validate_json(json.dumps(random_record(SCHEMA, rng)))


BAD = bad_requests(SCHEMA, random_record(SCHEMA, random.Random(1)))


JSON_RECORDS = [c for c in BAD if c.path == "/predict" and c.content_type == JSON]


@pytest.mark.parametrize("case", JSON_RECORDS, ids=lambda c: c.name)
def test_every_bad_json_record_fails_validation(case):
    with pytest.raises(ValidationError):
        MODEL.model_validate_json(case.body)


def test_the_list_covers_each_kind_of_bad_request():
    names = " ".join(c.name for c in BAD)
    for kind in ("wrong type", "missing", "extra", "out of bounds", "NaN", "infinity",
                 "not JSON", "content type", "multipart", "batch"):  # fmt: skip
        assert kind in names
