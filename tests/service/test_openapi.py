"""The OpenAPI document states the contract the service keeps (checked live by test_fuzz)."""

from pydantic import BaseModel

from lifecycle.serving.openapi import ERRORS, document
from lifecycle.serving.spec import FeatureSpec, batch_model, request_model

FEATURES = (
    FeatureSpec(name="age", kind="integer", minimum=18, maximum=100),
    FeatureSpec(name="income", kind="number", nullable=True, minimum=0),
    FeatureSpec(name="status", kind="category", nullable=True, categories=("a", "b")),
)


class Answer(BaseModel):
    prediction: int | str
    probability: float


def bentoml_like():
    """The shape BentoML gives: a flattened body, string details, no required flag."""
    flattened = {"type": "object", "properties": {"income": {"type": "number"}}}
    post = {
        "requestBody": {"content": {"application/json": {"schema": flattened}}},
        "responses": {"200": {"description": "ok"}, "400": {"$ref": "InvalidArgument"}},
        "operationId": "svc__predict",
    }
    return {
        "openapi": "3.0.2",
        "paths": {"/predict": {"post": dict(post)}, "/predict_batch": {"post": dict(post)},
                  "/metadata": {"get": {"responses": {}}}},
        "components": {"schemas": {"ApplicantIODescriptor": flattened, "Metadata": {}}},
    }  # fmt: skip


def make():
    endpoints = {"/predict": (request_model(FEATURES), Answer),
                 "/predict_batch": (batch_model(FEATURES), Answer)}  # fmt: skip
    return document(bentoml_like(), endpoints)


def resolve(doc, ref):
    return doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_the_request_schemas_keep_nullability_and_forbid_extra_keys():
    doc = make()
    single = resolve(doc, doc["paths"]["/predict"]["post"]["requestBody"]["content"][
        "application/json"]["schema"])  # fmt: skip
    nulls = {name for name, field in single["properties"].items()
             if {"type": "null"} in field.get("anyOf", [])}  # fmt: skip
    assert nulls == {"income", "status"}
    assert single["additionalProperties"] is False
    batch = doc["components"]["schemas"]["BatchRequest"]
    assert batch["additionalProperties"] is False and batch["required"] == ["records"]
    assert batch["properties"]["records"]["items"] == {"$ref": "#/components/schemas/Applicant"}
    assert doc["openapi"].startswith("3.1")  # JSON Schema's null type


def test_every_error_is_documented_with_its_real_shape():
    doc = make()
    for path in ("/predict", "/predict_batch"):
        post = doc["paths"][path]["post"]
        assert post["requestBody"]["required"] is True
        assert set(post["responses"]) == {"200", *map(str, ERRORS)}
        assert {"400", "408", "413", "415"} <= set(post["responses"])
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["required"] == ["error"]
    assert problem["properties"]["detail"]["type"] == "array"  # a list of objects, not a string
    assert "ApplicantIODescriptor" not in doc["components"]["schemas"]
    assert "/metadata" in doc["paths"]  # the rest of BentoML's document is kept
