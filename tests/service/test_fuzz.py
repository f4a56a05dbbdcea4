"""Schemathesis fuzzes the served OpenAPI document: the service must keep the contract it publishes.

For valid and invalid requests alike, every built-in check runs on each answer: never a 5xx, the
status code, content type, headers and body as the document declares them (so a document that
forbids a null the service accepts, or calls a list a string, fails here), valid data accepted
and invalid data rejected. The schema is read from the running server (``/docs.json``) inside the
test; schemathesis' lazy ``from_fixture`` loader does not work with pytest 9 (it sets a private
node attribute).
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 150  # per operation and mode: enough to reach each field's null, bounds and types
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
CASES = [
    ("POST /predict", POSITIVE),
    ("POST /predict", NEGATIVE),
    ("POST /predict_batch", POSITIVE),
    ("POST /predict_batch", NEGATIVE),
    ("GET /metadata", POSITIVE),  # no parameters: nothing to make invalid
    ("GET /readyz", POSITIVE),
]


@pytest.fixture(scope="module")
def openapi(served):
    return schemathesis.openapi.from_url(f"{served.url}/docs.json")


def operation(schema, label):
    method, path = label.split()
    for result in schema.get_all_operations():
        found = result.ok()
        if found.method.upper() == method and found.path == path:
            return found
    raise AssertionError(f"{label} is not in the service's OpenAPI document")


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_every_answer_keeps_the_published_contract(openapi, served, label, mode):
    @given(case=operation(openapi, label).as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # no example database to replay: each run fuzzes afresh
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(base_url=served.url, timeout=30)

    check()


def test_the_document_keeps_the_nullable_features_nullable(openapi, serving_world):
    """The request schema says null where the data contract allows it, for both endpoints."""
    raw = openapi.raw_schema
    applicant = raw["components"]["schemas"]["Applicant"]
    nullable = {
        name
        for name, field in applicant["properties"].items()
        if any(option.get("type") == "null" for option in field.get("anyOf", []))
    }
    assert nullable  # the test world's model has columns with missing values
    for path in ("/predict", "/predict_batch"):
        body = raw["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        assert {"400", "413", "415"} <= set(raw["paths"][path]["post"]["responses"])
    batch = raw["components"]["schemas"]["BatchRequest"]
    assert batch["additionalProperties"] is False
