"""An ASGI middleware in front of the service: bad requests get a 4xx before BentoML parses them.

BentoML answers 500 to some malformed bodies (a multipart body with a missing or bad boundary,
for one). The prediction endpoints take JSON only, so the guard checks, for a POST to them:

- the Content-Type is ``application/json`` (else 415);
- the body is at most ``max_body_bytes`` (else 413), whether or not Content-Length is sent
  (the rest of an oversized body is read and dropped, up to a cap, so the client gets the 413
  instead of a broken pipe);
- the Content-Length header, when sent, is a number (else 400);
- the body arrives within ``read_timeout_s`` (else 408, so a client that trickles its body in
  does not hold a connection and its buffer for as long as it likes).

Every response also carries the model version in the ``X-Model-Version`` header, and every
error is JSON, ``{"error": "..."}``: the router's plain-text 404 and 405 are rewritten.
``quiet_rejections`` turns BentoML's traceback for each rejected request into one log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_TYPES = ("application/json",)
DRAIN_FACTOR = 16  # an oversized body is read and dropped up to this many times the limit
READ_TIMEOUT_S = 30.0  # for the whole body of one request
PLAIN_ERRORS = {404: "no such endpoint: see /docs.json", 405: "method not allowed: see /docs.json"}


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        paths: tuple[str, ...],
        max_body_bytes: int,
        model_version: str,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.paths = paths
        self.max_body_bytes = max_body_bytes
        self.read_timeout_s = read_timeout_s
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
            try:
                body, problem = await asyncio.wait_for(
                    self._read_body(receive), self.read_timeout_s
                )
            except TimeoutError:
                problem = 408, f"the request body took over {self.read_timeout_s:g} s to arrive"
        if problem is not None:
            if problem[0] == 413:  # read what is left (up to a cap), so the client sees the 413
                await _drain(receive, DRAIN_FACTOR * self.max_body_bytes)
            await _reject(send, *problem)
            return
        await self.app(scope, _replay(body, receive), send)

    def _stamped(self, send: Send) -> Send:
        """``send`` with the version header on every response, errors as JSON."""
        rewrite = False

        async def stamped(message: Message) -> None:
            nonlocal rewrite
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                rewrite = message["status"] in PLAIN_ERRORS and _is_plain(headers)
                if rewrite:
                    allow = [h for h in headers if h[0].lower() == b"allow"]
                    status = message["status"]
                    await _reject(send, status, PLAIN_ERRORS[status], [*allow, self.version_header])
                    return
                message["headers"] = [*headers, self.version_header]
            elif rewrite:  # the plain-text body was replaced
                return
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


def _is_plain(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"text/plain") for k, v in headers)


async def _reject(
    send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"error": message}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *(extra or [])]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class OneLineRejections(logging.Filter):
    """A request rejected by validation is logged as one warning line, without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pydantic import ValidationError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ValidationError):
            where = record.getMessage().removeprefix("Exception on ")
            first = error.errors(include_url=False)[0]
            path = ".".join(str(part) for part in first["loc"]) or "body"
            record.msg, record.args = "400 %s: %d validation error(s), first at %r: %s", (
                where, error.error_count(), path, first["msg"])  # fmt: skip
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_rejections(logger_name: str = "bentoml._internal.server.http_app") -> None:
    """Install ``OneLineRejections`` on the logger BentoML reports request errors with."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, OneLineRejections) for f in logger.filters):
        logger.addFilter(OneLineRejections())
