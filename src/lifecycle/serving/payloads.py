"""Requests for the service, good and bad, made from its request schema (``GET /metadata``).

Used by the load test's locustfile (a mix of valid and invalid requests) and by the tests. Pure
Python on purpose: the locustfile runs under gevent, which must not meet MLflow and friends.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

JSON = "application/json"


@dataclass(frozen=True)
class BadRequest:
    """A request the service must answer with a 4xx (never a 2xx, never a 5xx)."""

    name: str
    body: bytes
    content_type: str = JSON
    path: str = "/predict"


def random_record(schema: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A valid record: uniform within each field's bounds, any allowed category, some nulls."""
    return {name: _value(field, rng) for name, field in schema.get("properties", {}).items()}


def _value(field: dict[str, Any], rng: random.Random) -> Any:
    options = field.get("anyOf", [field])
    if any(o.get("type") == "null" for o in options) and rng.random() < 0.05:
        return None
    spec = next(o for o in options if o.get("type") != "null")
    if "enum" in spec:
        return rng.choice(spec["enum"])
    if spec.get("type") == "string":
        return f"value-{rng.randint(0, 999)}"
    low, high = _bounds(spec)
    if spec.get("type") == "integer":
        return rng.randint(int(low), int(high))
    return rng.uniform(low, high)


def _bounds(spec: dict[str, Any]) -> tuple[float, float]:
    low = spec.get("minimum", 0.0)
    high = spec.get("maximum", low + 100.0)
    return low, min(high, low + 1e6) if high - low > 1e6 else high


def bad_requests(schema: dict[str, Any], record: dict[str, Any]) -> list[BadRequest]:
    """Malformed requests built around one valid record, each for a different reason."""
    first = next(iter(record))
    numeric = _first(schema, ("integer", "number"))
    integer = _first(schema, ("integer",))
    real = _first(schema, ("number",)) or numeric
    category = _first(schema, ("string",))
    text = json.dumps(record)
    cases = [
        _case("wrong type: text for a number", _dump(record, numeric, "many")),
        _case("wrong type: a list for a number", _dump(record, numeric, [1, 2])),
        _case("wrong type: a boolean", _dump(record, integer or numeric, True)),
        _case("wrong type: a fraction for an integer", _dump(record, integer, 1.5)),
        _case("missing field", json.dumps({k: v for k, v in record.items() if k != first})),
        _case("extra field", json.dumps({**record, "unexpected_field": 1})),
        _case("null for a required field", _dump(record, _required(schema), None)),
        _case("unknown category", _dump(record, category, "no-such-category")),
        _case("NaN", _raw(record, real, "NaN")),
        _case("infinity", _raw(record, real, "Infinity")),
        _case("negative infinity", _raw(record, real, "-Infinity")),
        _case("overflowing number", _raw(record, real, "1e999")),
        _case("not JSON", "this is not JSON"),
        _case("truncated JSON", text[: len(text) // 2]),
        _case("empty body", ""),
        _case("a JSON list, not an object", json.dumps([record])),
        _case("invalid UTF-8", b'{"' + first.encode() + b'": "\xff\xfe"}'),
        _case("wrong content type", text, "text/plain"),
        _case("no content type", text, ""),
        _case("multipart without boundary", "--x\r\n\r\n", "multipart/form-data"),
        _case("malformed multipart", "garbage", "multipart/form-data; boundary=zz"),
        _case("url-encoded form", "age=1", "application/x-www-form-urlencoded"),
    ]  # fmt: skip
    batch = "/predict_batch"
    cases += [
        _case("batch: records missing", "{}", path=batch),
        _case("batch: records empty", '{"records": []}', path=batch),
        _case("batch: records not a list", json.dumps({"records": record}), path=batch),
        _case(
            "batch: a key besides records",
            json.dumps({"records": [record], "unexpected_field": 1}),
            path=batch,
        ),
        _case("batch: one bad record", _batch(record, _dump(record, numeric, "x")), path=batch),
    ]
    cases += [_case(name, body) for name, body in _out_of_bounds(schema, record)]
    return cases


def _case(
    name: str, body: str | bytes, content_type: str = JSON, path: str = "/predict"
) -> BadRequest:
    """A bad request whose body is given as text (encoded as UTF-8) or as raw bytes."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return BadRequest(name, raw, content_type, path)


def _first(schema: dict[str, Any], types: tuple[str, ...]) -> str | None:
    for name, field in schema.get("properties", {}).items():
        if any(o.get("type") in types for o in field.get("anyOf", [field])):
            return name
    return None


def _required(schema: dict[str, Any]) -> str | None:
    """A field that may not be null."""
    for name, field in schema.get("properties", {}).items():
        if "anyOf" not in field:
            return name
    return None


def _dump(record: dict[str, Any], field: str | None, value: Any) -> str:
    return json.dumps({**record, field: value} if field else {**record, "unexpected_field": value})


def _raw(record: dict[str, Any], field: str | None, literal: str) -> str:
    """JSON text with a literal no JSON encoder writes (NaN, Infinity, 1e999)."""
    marker = "__literal__"
    return _dump(record, field, marker).replace(f'"{marker}"', literal)


def _batch(record: dict[str, Any], bad: str) -> str:
    return '{"records": [' + json.dumps(record) + ", " + bad + "]}"


def _out_of_bounds(schema: dict[str, Any], record: dict[str, Any]) -> list[tuple[str, str]]:
    """One field just above its maximum, one just below its minimum."""
    cases = []
    for bound, step, word in (("maximum", 1, "above"), ("minimum", -1, "below")):
        for name, field in schema.get("properties", {}).items():
            spec = next((o for o in field.get("anyOf", [field]) if bound in o), None)
            if spec is not None:
                value = spec[bound] + step
                value = int(value) if spec.get("type") == "integer" else value
                cases.append(
                    (f"out of bounds: {name} {word} its {bound}", _dump(record, name, value))
                )
                break
    return cases
