"""The service's OpenAPI document (``/docs.json``), true to what the service answers.

BentoML writes the document from the endpoints' signatures, but for ours it drops what matters:
a root input loses the nullability of its fields (``anyOf`` with null becomes the bare type),
the batch body allows any extra key, the request body is not marked required, a 400's
``detail`` is said to be a string (it is a list of objects), and the 408, 413, 415 and 503 the
service answers are missing. ``document`` takes BentoML's document and states, for each
prediction endpoint, the request and response schemas as the service's pydantic models define
them (JSON Schema 2020-12, hence OpenAPI 3.1) and every error it answers, as ``Problem``.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, Field

REF = "#/components/schemas/{model}"
OPENAPI = "3.1.0"
ERRORS = {
    400: "The body is not JSON, or breaks the request schema: `detail` names each bad field "
    "(with its record's index in a batch), or a header is malformed.",
    408: "The body did not arrive in time.",
    413: "The body is larger than the service accepts.",
    415: "The Content-Type is not application/json.",
    503: "The service is overloaded: retry later.",
}


class Issue(BaseModel):
    """One reason a request was rejected."""

    type: str = Field(description="the kind of problem, e.g. missing, int_type, extra_forbidden")
    loc: list[str | int] = Field(description="where: field names and record indexes")
    msg: str
    url: str = ""


class Problem(BaseModel):
    """Every error response: what is wrong, and for a schema violation each issue."""

    error: str
    detail: list[Issue] = Field(default_factory=list)


def document(
    base: dict[str, Any], endpoints: dict[str, tuple[type[BaseModel], type[BaseModel]]]
) -> dict[str, Any]:
    """BentoML's document with ``endpoints`` (path -> (request, response) model) made true."""
    doc = copy.deepcopy(base)
    doc["openapi"] = OPENAPI
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in [n for n in schemas if n.endswith(("IODescriptor", "__Input"))]:
        del schemas[name]  # BentoML's own renderings of our endpoints' bodies
    problem = _add_schema(schemas, Problem, "serialization")
    errors = {str(code): _response(text, problem) for code, text in ERRORS.items()}
    for path, (request, response) in endpoints.items():
        operation = doc["paths"][path]["post"]
        body = _json(_add_schema(schemas, request, "validation"))
        operation["requestBody"] = {"required": True, "content": body}
        success = _response("Success", _add_schema(schemas, response, "serialization"))
        operation["responses"] = {"200": success, **errors}
    return doc


def _add_schema(schemas: dict[str, Any], model: type[BaseModel], mode: Any) -> str:
    """Put ``model``'s schema (and the ones it uses) in the components; its name there."""
    schema = model.model_json_schema(ref_template=REF, mode=mode)
    schemas.update(schema.pop("$defs", {}))
    name = str(schema.get("title", model.__name__))
    schemas[name] = schema
    return name


def _response(description: str, name: str) -> dict[str, Any]:
    return {"description": description, "content": _json(name)}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=name)}}}
