"""Adaptive batching shared by ``/predict`` and ``/predict_batch``.

BentoML batches the calls of one ``@bentoml.api(batchable=True)`` endpoint. We want more: a
single-record request and a batch request arriving together should share one ``predict_proba``
call, while each keeps its own request id, response and prediction-log records. So the service
calls this batcher, which runs BentoML's own dispatcher (``CorkDispatcher``, the object behind
``batchable=True``, with the same ``max_batch_size`` and ``max_latency_ms`` meaning) around a
function that scores a list of rows. BentoML is pinned below 1.4.40 in pyproject.toml; the
service tests exercise this module, so an upgrade that moves the dispatcher fails them at once.

With ``max_batch_size`` 1 there is no batching: every request is scored on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

Rows = list[dict[str, Any]]
Scorer = Callable[[Rows], list[Any]]


class AdaptiveBatcher:
    def __init__(self, score: Scorer, max_batch_size: int, max_latency_ms: int) -> None:
        self.score_rows = score
        self.enabled = max_batch_size > 1
        if self.enabled:
            from bentoml._internal.marshal.dispatcher import CorkDispatcher

            self._dispatcher = CorkDispatcher[Rows, list[Any]](
                max_latency_in_ms=max_latency_ms,
                max_batch_size=max_batch_size,
                fallback=_overloaded,
                get_batch_size=len,
                batch_dim=(0, 0),
            )
            self._submit = self._dispatcher(self._score_batches)

    async def score(self, rows: Rows) -> list[Any]:
        """The scores of ``rows``, in order, computed alone or together with other requests'."""
        if not self.enabled:
            return await asyncio.to_thread(self.score_rows, rows)
        scores = await self._submit(rows)
        if scores is None:  # typed as possible by the dispatcher: only from its fallback, on cancel
            _overloaded()
        return scores

    async def _score_batches(self, batches: Sequence[Rows]) -> list[list[Any]]:
        flat = [row for batch in batches for row in batch]
        scores = await asyncio.to_thread(self.score_rows, flat)
        out, start = [], 0
        for batch in batches:
            out.append(scores[start : start + len(batch)])
            start += len(batch)
        return out

    def close(self) -> None:
        if self.enabled:
            self._dispatcher.shutdown()


def _overloaded() -> NoReturn:
    from bentoml.exceptions import ServiceUnavailable

    raise ServiceUnavailable("the service is overloaded: retry later")
