"""Where the time of one /predict_batch request goes, stage by stage, in this process.

The stages are the service's own functions, run in the order the service runs them on one
1000-record body: parse and validate the body (``spec.batch_model``, as BentoML calls it), build
the model's input (``spec.model_frame``), ``predict_proba``, write the JSON answer, and turn the
rows into prediction-log lines (done by the log's thread, off the request path, but on the same
cores). HTTP and BentoML's own work are what the served figure adds to the sum.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from pydantic_core import to_json

from lifecycle.serving.predlog import Entry, now
from lifecycle.serving.spec import ServingSpec, batch_model, model_frame

REPEATS = 30


def median_ms(step: Callable[[], Any], repeats: int = REPEATS) -> float:
    step()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def split(spec: ServingSpec, model: Any, body: bytes) -> list[tuple[str, float]]:
    """(stage, median ms) for one batch body, in the service's order."""
    request = batch_model(spec.features)
    rows = request.model_validate_json(body).records
    frame = model_frame(spec.features, rows)
    probabilities = model.predict_proba(frame)
    scores = list(zip(model.classes_[probabilities.argmax(axis=1)].tolist(),
                      probabilities[:, 1].tolist(), strict=True))  # fmt: skip
    answer = {"request_id": "r", "predictions": [{"prediction": p, "probability": q}
                                                 for p, q in scores]}  # fmt: skip
    entry = Entry(now(), "r", "predict_batch", rows, scores)
    fields = {"model_name": spec.model_name, "model_version": spec.model_version}
    return [
        ("parse and validate the body (pydantic, strict)", median_ms(
            lambda: request.model_validate_json(body))),
        ("build the model's input frame", median_ms(lambda: model_frame(spec.features, rows))),
        ("predict_proba (the model)", median_ms(lambda: model.predict_proba(frame))),
        ("write the JSON answer", median_ms(lambda: to_json(answer))),
        ("prediction log lines (log thread)", median_ms(
            lambda: entry.lines(fields))),
    ]  # fmt: skip
