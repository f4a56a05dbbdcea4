"""The BentoML service: one class, the model declared once and loaded in ``__init__``.

Built by ``lifecycle build``, which records everything this module needs as the Bento's build
arguments (``lifecycle.serving.spec.ServingSpec``): the model version and its BentoML model tag,
the artifact's sha256, the request schema, the batching settings and the prediction log sink.
BentoML restores them whenever the Bento is served, so this module is imported only by BentoML
(never by the CLI) and imports BentoML at the top, as BentoML services do.

Endpoints (JSON in, JSON out; every response has the ``X-Model-Version`` header):

- ``POST /predict``: one record, the features as a flat object -> prediction, probability.
- ``POST /predict_batch``: ``{"records": [...]}`` (1 to ``MAX_RECORDS``) -> one per record.
- ``GET /metadata``: model name and version, artifact sha256, the request schema.
- ``GET /healthz``, ``/livez``, ``/readyz``: BentoML's health endpoints.

Both prediction endpoints go through one adaptive batcher (``lifecycle.serving.batching``), so
concurrent requests share ``predict_proba`` calls. Every response carries a request id (the
``X-Request-ID`` header when sent, else a new one) and every scored row is written to the
prediction log (``lifecycle.serving.predlog``). Bad requests get a 4xx: pydantic validation
(400) behind ``lifecycle.serving.guard`` (content type 415, body size 413).
"""

import os
import re
import uuid
from pathlib import Path
from typing import Any

# One thread per predict_proba call: BentoML scales with worker processes, and OpenMP threads
# competing for the same cores make a one-row prediction ten times slower on a busy machine.
# Set before scikit-learn loads OpenMP; an OMP_NUM_THREADS already in the environment wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import bentoml
from fastapi import FastAPI
from pydantic import BaseModel, Field

from lifecycle.serving.artifact import ArtifactMismatch, verify
from lifecycle.serving.batching import AdaptiveBatcher
from lifecycle.serving.guard import RequestGuard
from lifecycle.serving.predlog import PredictionLog, now
from lifecycle.serving.spec import ServingSpec, request_model

SPEC = bentoml.use_arguments(ServingSpec)
MODEL_FOLDER = "mlflow"  # the MLflow model, as downloaded from the registry, inside the model
MAX_RECORDS = 1000  # per /predict_batch request; the batcher splits them by max_batch_size
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _verified_model_folder() -> Path:
    """The model's files, checked against the sha256 recorded at build time.

    Checked when the module is imported, so that ``bentoml serve`` (and a container) exits at
    once with the reason, instead of restarting a worker whose ``__init__`` keeps failing.
    """
    from bentoml.exceptions import NotFound

    try:
        folder = Path(bentoml.models.get(SPEC.bento_model).path) / MODEL_FOLDER
    except NotFound:
        raise ArtifactMismatch(
            f"model {SPEC.bento_model} is not in the BentoML model store: rebuild the Bento"
        ) from None
    verify(folder, SPEC.sha256)
    return folder


MODEL_PATH = _verified_model_folder()
Applicant = request_model(SPEC.features)


class Score(BaseModel):
    prediction: int | str
    probability: float = Field(ge=0, le=1, description="probability of the positive label")


class Prediction(Score):
    request_id: str
    model_name: str
    model_version: str


class BatchPrediction(BaseModel):
    request_id: str
    model_name: str
    model_version: str
    predictions: list[Score]


class Metadata(BaseModel):
    model_name: str
    model_version: str
    bento_model: str
    sha256: str
    max_batch_size: int
    max_latency_ms: int
    request_schema: dict[str, Any]


METADATA = Metadata(
    model_name=SPEC.model_name,
    model_version=SPEC.model_version,
    bento_model=SPEC.bento_model,
    sha256=SPEC.sha256,
    max_batch_size=SPEC.max_batch_size,
    max_latency_ms=SPEC.max_latency_ms,
    request_schema=Applicant.model_json_schema(),
)
metadata_app = FastAPI(title="metadata", openapi_url=None, docs_url=None, redoc_url=None)


@bentoml.service(
    name=SPEC.model_name,
    traffic={"timeout": 60},
    logging={"access": {"enabled": SPEC.access_log}},
)
@bentoml.asgi_app(metadata_app, path="/")
class ModelService:
    bento_model = bentoml.models.BentoModel(SPEC.bento_model)

    def __init__(self) -> None:
        import mlflow.sklearn

        from lifecycle.registry import trusted_models

        with trusted_models():  # the files match the sha256 recorded at build time
            self.model = mlflow.sklearn.load_model(str(MODEL_PATH))
        self.positive = list(self.model.classes_).index(SPEC.positive_label)
        self.batcher = AdaptiveBatcher(self.score, SPEC.max_batch_size, SPEC.max_latency_ms)
        self.log = PredictionLog(SPEC.prediction_log_sink, SPEC.prediction_log_path)

    @bentoml.on_shutdown
    def close(self) -> None:
        self.batcher.close()
        self.log.close()

    @metadata_app.get("/metadata")
    @metadata_app.get("/metadata/", include_in_schema=False)
    def metadata(self) -> Metadata:
        return METADATA

    def score(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One predict_proba call for many rows: {prediction, probability} per row."""
        probabilities = self.model.predict_proba(_frame(rows))
        labels = self.model.classes_[probabilities.argmax(axis=1)]
        return [
            {"prediction": label.item(), "probability": float(row[self.positive])}
            for label, row in zip(labels, probabilities, strict=True)
        ]

    @bentoml.api(input_spec=Applicant, output_spec=Prediction)
    async def predict(self, ctx: bentoml.Context, **record: Any) -> Prediction:
        request_id = _request_id(ctx)
        [score] = await self.batcher.score([record])
        self._log("predict", request_id, [record], [score])
        return Prediction(request_id=request_id, **_model_fields(), **score)

    @bentoml.api
    async def predict_batch(
        self,
        ctx: bentoml.Context,
        records: list[Applicant] = Field(min_length=1, max_length=MAX_RECORDS),  # type: ignore[valid-type]  # noqa: B008
    ) -> BatchPrediction:
        request_id = _request_id(ctx)
        rows = [r.model_dump() for r in records]
        scores = await self.batcher.score(rows)
        self._log("predict_batch", request_id, rows, scores)
        return BatchPrediction(request_id=request_id, **_model_fields(), predictions=scores)

    def _log(self, endpoint: str, request_id: str, rows: list[dict], scores: list[dict]) -> None:
        common = {"timestamp": now(), "request_id": request_id, "endpoint": endpoint}
        self.log.write(
            {**common, "index": index, **_model_fields(), **row, **score}
            for index, (row, score) in enumerate(zip(rows, scores, strict=True))
        )


ModelService.add_asgi_middleware(
    RequestGuard,
    paths=("/predict", "/predict_batch"),
    max_body_bytes=SPEC.max_body_bytes,
    model_version=SPEC.model_version,
)


def _frame(rows: list[dict[str, Any]]) -> Any:
    """Rows as the model was trained on them: numbers as float64, missing values as NaN.

    Built column by column from plain lists (ten times faster than converting a frame's
    columns one by one, which mattered: it was the largest cost of a one-row request).
    """
    import numpy as np
    import pandas as pd

    columns = {}
    for feature in SPEC.features:
        values = [np.nan if row[feature.name] is None else row[feature.name] for row in rows]
        kind = object if feature.kind == "category" else "float64"
        columns[feature.name] = np.array(values, dtype=kind)
    return pd.DataFrame(columns)


def _model_fields() -> dict[str, str]:
    return {"model_name": SPEC.model_name, "model_version": SPEC.model_version}


def _request_id(ctx: bentoml.Context) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one; echoed back."""
    sent = ctx.request.headers.get("x-request-id", "")
    request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
    ctx.response.headers["X-Request-ID"] = request_id
    return request_id
