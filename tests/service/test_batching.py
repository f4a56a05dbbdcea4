"""Adaptive batching: concurrent requests share scoring calls; each gets its own rows back."""

import asyncio
import threading

from lifecycle.serving.batching import AdaptiveBatcher


class Scorer:
    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def __call__(self, rows):
        with self.lock:
            self.calls.append(len(rows))
        threading.Event().wait(0.01)  # like a model: a fixed cost per call
        return [row["x"] * 10 for row in rows]


async def many(batcher, requests):
    return await asyncio.gather(*(batcher.score(rows) for rows in requests))


def test_concurrent_requests_are_merged_and_answered_in_order():
    scorer = Scorer()
    batcher = AdaptiveBatcher(scorer, max_batch_size=100, max_latency_ms=5000)
    requests = [[{"x": i}] for i in range(40)] + [[{"x": 100}, {"x": 101}, {"x": 102}]]

    async def run():
        await many(batcher, requests[:1] * 20)  # the dispatcher's warm-up phase
        scorer.calls.clear()
        return await many(batcher, requests)

    answers = asyncio.run(run())
    assert answers == [[row["x"] * 10 for row in rows] for rows in requests]
    assert sum(scorer.calls) == 43
    assert len(scorer.calls) < len(requests)  # rows from different requests shared calls


def test_batch_size_one_scores_each_request_alone():
    scorer = Scorer()
    batcher = AdaptiveBatcher(scorer, max_batch_size=1, max_latency_ms=5000)
    answers = asyncio.run(many(batcher, [[{"x": 1}], [{"x": 2}, {"x": 3}]]))
    assert answers == [[10], [20, 30]]
    assert sorted(scorer.calls) == [1, 2]
