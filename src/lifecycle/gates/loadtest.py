"""The load-test gate (stage serving): Locust's statistics against gates.loadtest.

It needs a served Bento, so `lifecycle loadtest` serves it, measures and judges with
``lifecycle.serving.loadtest`` (p95 latency, error rate, throughput) and hands the report over.
"""

from __future__ import annotations

from lifecycle.gates.registry import Gate, measured

GATE = Gate("loadtest", "serving", "p95 latency, error rate and throughput under Locust", measured)
