"""A TCP proxy in front of a real `mlflow server` that cuts the registry off at request N.

Every request goes to the server on a connection of its own (``Connection: close``), so the
proxy counts requests by counting connections. At request ``cut_at`` the server receives and
applies the request, then the proxy drops the answer and refuses every later connection: for the
client the registry died right after that write. ``on_cut`` may kill the real server too.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable

HEADER_END = b"\r\n\r\n"


class CuttingProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.paths: list[str] = []
        self.cut_at: int | None = None
        self.on_cut: Callable[[], None] | None = None
        self.down = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def arm(self, cut_at: int | None, on_cut: Callable[[], None] | None = None) -> None:
        """Count from zero; cut at request ``cut_at`` (None: never)."""
        with self.lock:
            self.paths, self.cut_at, self.on_cut, self.down = [], cut_at, on_cut, False

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            request = _read_request(client)
            with self.lock:
                if request is None or self.down:
                    return
                self.paths.append(request.split(b" ", 2)[1].decode("latin-1"))
                number = len(self.paths)
                cut = number == self.cut_at
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
            except OSError:
                return
            with upstream:
                upstream.sendall(request)
                if cut:
                    upstream.recv(1)  # the server answers only after applying the request
                    with self.lock:
                        self.down = True
                    if self.on_cut is not None:
                        self.on_cut()
                    return
                while chunk := upstream.recv(65536):
                    client.sendall(chunk)


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while HEADER_END not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(HEADER_END)
    found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(found.group(1)) if found else 0
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    head = re.sub(rb"(?im)^connection:[^\r\n]*", b"Connection: close", head)
    if not re.search(rb"(?im)^connection:", head):
        head += b"\r\nConnection: close"
    return head + HEADER_END + body
