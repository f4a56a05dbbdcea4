"""A small closed-loop HTTP load generator (asyncio + aiohttp), run as its own process.

Each of ``--users`` users sends a request, waits for the answer, and sends the next, for
``--warmup`` seconds (not measured) and then ``--duration`` seconds. Prints one JSON object:
requests, errors (any status but 200), requests per second, p50/p95/p99 latency in ms.

    python benchmarks/loadgen.py --url http://127.0.0.1:3000 --path /predict \
        --records records.json --users 10 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import aiohttp


async def user(session, url, bodies, offset, stop_at, measure_from, samples, errors):
    index = offset
    while (now := time.perf_counter()) < stop_at:
        body = bodies[index % len(bodies)]
        index += 1
        started = now
        try:
            async with session.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as r:
                await r.read()
                ok = r.status == 200
        except aiohttp.ClientError:
            ok = False
        if started >= measure_from:
            samples.append(time.perf_counter() - started)
            errors[0] += not ok


async def run(args: argparse.Namespace) -> dict:
    records = json.loads(Path(args.records).read_text(encoding="utf-8"))
    bodies = [json.dumps(r).encode() for r in records]
    samples: list[float] = []
    errors = [0]
    connector = aiohttp.TCPConnector(limit=args.users)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        measure_from, stop_at = start + args.warmup, start + args.warmup + args.duration
        url = args.url.rstrip("/") + args.path
        await asyncio.gather(
            *(user(session, url, bodies, i * 7, stop_at, measure_from, samples, errors)
              for i in range(args.users))
        )  # fmt: skip
    return summary(samples, errors[0], args.duration)


def summary(samples: list[float], errors: int, duration: float) -> dict:
    if not samples:
        return {"requests": 0, "errors": errors, "rps": 0.0, "p50": None, "p95": None, "p99": None}
    cuts = (
        statistics.quantiles(samples, n=100, method="inclusive")
        if len(samples) > 1
        else samples * 99
    )
    return {
        "requests": len(samples),
        "errors": errors,
        "rps": round(len(samples) / duration, 1),
        "p50": round(cuts[49] * 1000, 1),
        "p95": round(cuts[94] * 1000, 1),
        "p99": round(cuts[98] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", default="/predict")
    parser.add_argument("--records", required=True, help="a JSON list of request bodies")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
