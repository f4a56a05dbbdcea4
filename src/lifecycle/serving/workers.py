"""Readiness across worker processes: ``/readyz`` says ready only when every worker is up.

BentoML starts ``serving.workers`` processes that accept connections on one shared socket, so a
``/readyz`` request is answered by whichever worker takes it: on its own, a worker would say
ready as soon as it had loaded the model, while the others were still loading. So each worker,
once loaded, signs a roll shared by the workers of one server: a folder named after the server
process (the workers' parent), one file per worker slot (BentoML's worker index, 1 to N) holding
the worker's pid. Ready means every slot names a live process: a worker that dies leaves its pid
behind, and the server is not ready until its replacement has loaded and signed in its place.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Literal

Workers = int | Literal["cpu_count"]


def count(workers: Workers) -> int:
    """How many worker processes BentoML starts for ``workers`` on this machine."""
    if workers != "cpu_count":
        return int(workers)
    from bentoml._internal.resource import system_resources  # what BentoML counts (cgroups)

    return int(system_resources()["cpu"]) or 1


class Roll:
    """The workers of the server this process belongs to; ``sign`` once ready."""

    def __init__(self, workers: Workers, slot: int | None, server_pid: int | None = None) -> None:
        self.size = count(workers) if slot is not None else 1  # no slot: served alone
        self.slot = slot or 1
        server = server_pid or os.getppid()
        self.folder = Path(tempfile.gettempdir()) / f"lifecycle-workers-{server}"

    def sign(self) -> None:
        self.folder.mkdir(exist_ok=True)
        partial = self.folder / f".{self.slot}.{os.getpid()}"
        partial.write_text(str(os.getpid()), encoding="ascii")
        partial.replace(self.folder / str(self.slot))

    def leave(self) -> None:
        with suppress(OSError):
            if self._pid(self.slot) == os.getpid():  # not a replacement's signature
                (self.folder / str(self.slot)).unlink()
            self.folder.rmdir()  # the last worker out removes the folder

    def complete(self) -> bool:
        """Every slot signed by a live process."""
        return all(process_alive(self._pid(slot)) for slot in range(1, self.size + 1))

    def pids(self) -> list[int]:
        return [self._pid(slot) for slot in range(1, self.size + 1)]

    def _pid(self, slot: int) -> int:
        try:
            return int((self.folder / str(slot)).read_text(encoding="ascii"))
        except (OSError, ValueError):
            return 0


def process_alive(pid: int) -> bool:
    """A running process on this host (a zombie, exited and not yet reaped, counts as gone)."""
    import psutil  # type: ignore[import-untyped]  # installed with BentoML; ships no type information

    try:
        return pid > 0 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:  # no such process
        return False
