"""Schemathesis fuzzes the served OpenAPI document: valid and invalid requests, never a 5xx.

The schema is read from the running server (``/docs.json``) inside the test; schemathesis'
lazy ``from_fixture`` loader does not work with pytest 9 (it sets a private node attribute).
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 40  # per operation and mode: enough to find a 5xx path, quick on two cores
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
def test_no_request_gets_a_server_error(openapi, served, label, mode):
    @given(case=operation(openapi, label).as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # no example database to replay: each run fuzzes afresh
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call(base_url=served.url, timeout=30)
        assert response.status_code < 500, (
            f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}\n"
            f"{case.as_curl_command()}"
        )

    check()
