"""The request guard in front of the service: content type, body size, read timeout, the version
header, JSON errors; and the one-line log of a rejected request."""

import asyncio
import json
import logging
import sys

import pytest

from lifecycle.serving.guard import OneLineRejections, RequestGuard

LIMIT = 100


async def echo_app(scope, receive, send):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def call(method="POST", path="/predict", headers=(), chunks=(b"{}",)):
    guard = RequestGuard(echo_app, paths=("/predict",), max_body_bytes=LIMIT, model_version="7")
    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
               for i, c in enumerate(chunks)]  # fmt: skip
    sent = []

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


JSON = (b"content-type", b"application/json")


def test_a_json_post_passes_through_with_its_body_and_the_version_header():
    status, headers, body = call(headers=[JSON], chunks=(b'{"a":', b" 1}"))
    assert status == 200 and body == b'{"a": 1}'
    assert headers[b"x-model-version"] == b"7"


@pytest.mark.parametrize(
    "content_type",
    [None, b"text/plain", b"multipart/form-data", b"multipart/form-data; boundary=x",
     b"application/x-www-form-urlencoded"],
)  # fmt: skip
def test_anything_but_json_is_415(content_type):
    headers = [(b"content-type", content_type)] if content_type else []
    status, _, body = call(headers=headers)
    assert status == 415
    assert "application/json" in json.loads(body)["error"]


def test_a_declared_oversized_body_is_413_before_it_is_read():
    status, _, body = call(headers=[JSON, (b"content-length", str(LIMIT + 1).encode())])
    assert status == 413 and "bytes" in json.loads(body)["error"]


def test_a_streamed_oversized_body_is_413():
    status, _, _ = call(headers=[JSON], chunks=(b"x" * 60, b"x" * 60))
    assert status == 413


def test_a_bad_content_length_is_400():
    status, _, _ = call(headers=[JSON, (b"content-length", b"ten")])
    assert status == 400


def test_other_routes_and_methods_are_untouched_but_stamped():
    status, headers, _ = call(method="GET", path="/metadata")
    assert status == 200 and headers[b"x-model-version"] == b"7"


async def plain_error_app(scope, receive, send):
    """Starlette's router answers unknown paths and methods like this."""
    status = 405 if scope["path"] == "/predict" else 404
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"POST")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"Not Found"})


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/nope", 404),
                                                         ("GET", "/predict", 405)])  # fmt: skip
def test_the_router_s_plain_text_errors_become_json(method, path, status):
    guard = RequestGuard(plain_error_app, paths=("/predict",), max_body_bytes=LIMIT,
                         model_version="7")  # fmt: skip
    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(guard(scope, None, send))
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == status
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"x-model-version"] == b"7"
    assert json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["error"]
    assert status == 404 or headers[b"allow"] == b"POST"


def test_a_body_that_does_not_arrive_in_time_is_408():
    guard = RequestGuard(echo_app, paths=("/predict",), max_body_bytes=LIMIT, model_version="7",
                         read_timeout_s=0.05)  # fmt: skip
    sent = []

    async def receive():  # a client that sends one chunk and then nothing
        if not sent and not getattr(receive, "done", False):
            receive.done = True
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": [JSON]}
    asyncio.run(guard(scope, receive, send))
    assert sent[0]["status"] == 408
    assert "s to arrive" in json.loads(sent[1]["body"])["error"]


def test_a_rejected_request_is_one_log_line_without_traceback():
    from pydantic import BaseModel, ValidationError

    class Body(BaseModel):
        age: int

    try:
        Body.model_validate({"age": "x"})
    except ValidationError:
        record = logging.LogRecord("bentoml", logging.ERROR, __file__, 1,
                                   "Exception on %s [%s]", ("/predict", "POST"),
                                   sys.exc_info())  # fmt: skip
    assert OneLineRejections().filter(record)
    text = logging.Formatter().format(record)
    assert record.levelname == "WARNING" and "\n" not in text
    assert text.startswith("400 /predict [POST]: 1 validation error(s), first at 'age'")


def test_other_errors_keep_their_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("bentoml", logging.ERROR, __file__, 1, "Exception on %s",
                                   ("/predict",), sys.exc_info())  # fmt: skip
    assert OneLineRejections().filter(record)
    assert record.exc_info and "Traceback" in logging.Formatter().format(record)
