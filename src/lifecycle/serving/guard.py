"""An ASGI middleware in front of the service: bad requests get a 4xx before BentoML parses them.

BentoML answers 500 to some malformed bodies (a multipart body with a missing or bad boundary,
for one). The prediction endpoints take JSON only, so the guard checks, for a POST to them:

- the Content-Type is ``application/json`` (else 415);
- the body is at most ``max_body_bytes`` (else 413), whether or not Content-Length is sent
  (the rest of an oversized body is read and dropped, up to a cap, so the client gets the 413
  instead of a broken pipe);
- the Content-Length header, when sent, is a number (else 400).

Every response also carries the model version in the ``X-Model-Version`` header.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_TYPES = ("application/json",)
DRAIN_FACTOR = 16  # an oversized body is read and dropped up to this many times the limit


class RequestGuard:
    def __init__(
        self, app: ASGIApp, *, paths: tuple[str, ...], max_body_bytes: int, model_version: str
    ) -> None:
        self.app = app
        self.paths = paths
        self.max_body_bytes = max_body_bytes
        self.version_header = (b"x-model-version", model_version.encode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._stamped(send)
        if scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        problem = self._check_headers(scope)
        if problem is None:
            body, problem = await self._read_body(receive)
        if problem is not None:
            if problem[0] == 413:  # read what is left (up to a cap), so the client sees the 413
                await _drain(receive, DRAIN_FACTOR * self.max_body_bytes)
            await _reject(send, *problem)
            return
        await self.app(scope, _replay(body, receive), send)

    def _stamped(self, send: Send) -> Send:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.version_header]
            await send(message)

        return stamped

    def _check_headers(self, scope: Scope) -> tuple[int, str] | None:
        headers = dict(scope.get("headers", []))
        media = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if media not in JSON_TYPES:
            shown = media or "none"
            return 415, f"Content-Type must be application/json (got {shown})"
        length = headers.get(b"content-length")
        if length is None:
            return None
        if not length.isdigit():
            return 400, "Content-Length is not a number"
        if int(length) > self.max_body_bytes:
            return 413, f"request body over {self.max_body_bytes} bytes"
        return None

    async def _read_body(self, receive: Receive) -> tuple[bytes, tuple[int, str] | None]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", (400, "client disconnected before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", (413, f"request body over {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


async def _drain(receive: Receive, cap: int) -> None:
    """Read and drop the rest of a request body, up to ``cap`` bytes."""
    read = 0
    while read < cap:
        message = await receive()
        read += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the buffered body once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _reject(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
