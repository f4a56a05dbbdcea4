"""The request guard in front of the service: content type, body size, the version header."""

import asyncio
import json

import pytest

from lifecycle.serving.guard import RequestGuard

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
