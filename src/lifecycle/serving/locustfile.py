"""The load test's users (Locust): a mix of valid and invalid requests against the service.

Run by ``lifecycle loadtest`` in its own process (``locust -f .../locustfile.py --headless``);
never import this module elsewhere: Locust patches the standard library with gevent.

Each user reads the request schema from ``GET /metadata`` once, then sends, with no pause:

- valid single records to ``/predict`` (most requests) and batches to ``/predict_batch``:
  success means a 200 that names the model version;
- with probability ``LIFECYCLE_INVALID_SHARE`` (``gates.loadtest.invalid_share``), an invalid
  request from ``lifecycle.serving.payloads.bad_requests``: success means a 4xx, so a 2xx (a bad
  request accepted) or a 5xx (the server broke) counts as an error.

Distributed mode (``gates.loadtest.workers``): the same file runs in the master and in each
worker. The master counts the requests each worker reports and, when it quits, writes them to
``LIFECYCLE_WORKERS_REPORT`` (JSON: worker id -> requests), so the gate can show that the merged
statistics came from every worker.
"""

import json
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.runners import MasterRunner

from lifecycle.serving.payloads import bad_requests, random_record

INVALID_SHARE = float(os.environ.get("LIFECYCLE_INVALID_SHARE", "0.1"))
BATCH_SHARE = float(os.environ.get("LIFECYCLE_BATCH_SHARE", "0.1"))
BATCH_SIZE = (5, 20)
WORKERS_REPORT = os.environ.get("LIFECYCLE_WORKERS_REPORT", "")
requests_by_worker: Counter[str] = Counter()


@events.worker_report.add_listener  # type: ignore[untyped-decorator]  # unannotated in Locust
def count_worker_requests(client_id: str, data: dict[str, Any]) -> None:
    requests_by_worker[client_id] += int(data["stats_total"]["num_requests"])


@events.quitting.add_listener  # type: ignore[untyped-decorator]  # unannotated in Locust
def write_workers_report(environment: Environment, **_: object) -> None:
    if WORKERS_REPORT and isinstance(environment.runner, MasterRunner):
        Path(WORKERS_REPORT).write_text(json.dumps(dict(requests_by_worker)), encoding="utf-8")


class ServiceUser(FastHttpUser):
    def on_start(self) -> None:
        self.rng = random.Random()  # noqa: S311 (test data, not secrets)
        with self.client.get("/metadata", name="/metadata", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"GET /metadata answered {answer.status_code}")
                raise RuntimeError("the service has no /metadata: is this our Bento?")
            meta = answer.json()
        self.schema = meta["request_schema"]
        self.version = str(meta["model_version"])
        self.bad = bad_requests(self.schema, random_record(self.schema, self.rng))

    @task
    def one_request(self) -> None:
        draw = self.rng.random()
        if draw < INVALID_SHARE:
            self.invalid()
        elif draw < INVALID_SHARE + BATCH_SHARE:
            self.batch()
        else:
            self.single()

    def single(self) -> None:
        record = random_record(self.schema, self.rng)
        with self.client.post("/predict", json=record, catch_response=True) as answer:
            self._expect_prediction(answer)

    def batch(self) -> None:
        size = self.rng.randint(*BATCH_SIZE)
        records = [random_record(self.schema, self.rng) for _ in range(size)]
        body = {"records": records}
        with self.client.post("/predict_batch", json=body, catch_response=True) as answer:
            self._expect_prediction(answer)

    def _expect_prediction(self, answer: Any) -> None:  # Locust's, its success/failure untyped
        if answer.status_code != 200:  # no text (None) when the connection failed
            text = (answer.text or "")[:200]
            answer.failure(f"valid request answered {answer.status_code}: {text}")
        elif answer.headers.get("x-model-version") != self.version:
            answer.failure("the response does not name the model version")
        else:
            answer.success()

    def invalid(self) -> None:
        case = self.rng.choice(self.bad)
        headers = {"Content-Type": case.content_type} if case.content_type else {}
        with self.client.post(
            case.path, data=case.body,  # type: ignore[arg-type]  # Locust takes bytes too
            headers=headers, name=f"{case.path} (invalid)",
            catch_response=True,
        ) as answer:  # fmt: skip
            if 400 <= answer.status_code < 500:
                answer.success()
            else:
                answer.failure(f"invalid request '{case.name}' answered {answer.status_code}")
