"""The BentoML service: one class, the model declared once and loaded in ``__init__``.

Built by ``lifecycle build``, which records everything this module needs as the Bento's build
arguments (``lifecycle.serving.spec.ServingSpec``): the model version and its BentoML model tag,
the artifact's sha256, the request schema, the batching settings and the prediction log sink.
BentoML restores them whenever the Bento is served, so this module is imported only by BentoML
(never by the CLI) and imports BentoML at the top, as BentoML services do.

Endpoints (JSON in, JSON out; every response has the ``X-Model-Version`` header):

- ``POST /predict``: one record, the features as a flat object -> prediction (one of the target's
  own labels, e.g. "yes"/"no", true/false or 1/2), probability (of the positive label).
- ``POST /predict_batch``: ``{"records": [...]}`` (1 to ``MAX_RECORDS``) -> one per record.
- ``GET /metadata``: model name and version, artifact sha256, the labels, the request schema.
- ``GET /docs.json``: the OpenAPI document (``lifecycle.serving.openapi``), ``/`` its UI.
- ``GET /healthz``, ``/livez``, ``/readyz``: BentoML's health endpoints; ``/readyz`` answers 200
  only once every worker process has loaded the model (``lifecycle.serving.workers``).

Both prediction endpoints go through one adaptive batcher (``lifecycle.serving.batching``), so
concurrent requests share ``predict_proba`` calls. Every response carries a request id (the
``X-Request-ID`` header when sent, else a new one) and every scored row is written to the
prediction log (``lifecycle.serving.predlog``) by a background thread. Bad requests get a 4xx
with ``{"error": ...}``: pydantic validation (400, each bad field named, one log line) behind
``lifecycle.serving.guard`` (content type 415, body size 413, slow body 408).

A batch is validated into plain dicts (no model object per record), fed to the model column by
column, and both endpoints write their JSON answer themselves (``pydantic_core.to_json``): the
answers are what ``Prediction`` and ``BatchPrediction`` describe, which ``/docs.json`` publishes.
"""

import functools
import os
import re
import uuid
from pathlib import Path
from typing import Any, cast

# One thread per predict_proba call: BentoML scales with worker processes, and OpenMP threads
# competing for the same cores make a one-row prediction ten times slower on a busy machine.
# Set before scikit-learn loads OpenMP; an OMP_NUM_THREADS already in the environment wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import bentoml
from fastapi import FastAPI
from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.responses import Response

from lifecycle.serving import openapi
from lifecycle.serving.artifact import ArtifactMismatch, verify
from lifecycle.serving.batching import AdaptiveBatcher
from lifecycle.serving.guard import RequestGuard, quiet_rejections
from lifecycle.serving.predlog import Entry, PredictionLog, now
from lifecycle.serving.spec import (
    ServingSpec,
    answer_models,
    batch_model,
    model_frame,
    request_model,
)
from lifecycle.serving.workers import Roll
from lifecycle.training.model import POSITIVE, Labels

SPEC = bentoml.use_arguments(ServingSpec)
MODEL_FOLDER = "mlflow"  # the MLflow model, as downloaded from the registry, inside the model
MODEL_FIELDS = {"model_name": SPEC.model_name, "model_version": SPEC.model_version}
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
BatchRequest = batch_model(SPEC.features)
Prediction, BatchPrediction = answer_models(SPEC.labels)


class Metadata(BaseModel):
    model_name: str
    model_version: str
    bento_model: str
    sha256: str
    labels: Labels = Field(description="the target's two labels the predictions take")
    max_batch_size: int
    max_latency_ms: int
    request_schema: dict[str, Any]


METADATA = Metadata(
    model_name=SPEC.model_name,
    model_version=SPEC.model_version,
    bento_model=SPEC.bento_model,
    sha256=SPEC.sha256,
    labels=SPEC.labels,
    max_batch_size=SPEC.max_batch_size,
    max_latency_ms=SPEC.max_latency_ms,
    request_schema=Applicant.model_json_schema(),
)
metadata_app = FastAPI(title="metadata", openapi_url=None, docs_url=None, redoc_url=None)


@bentoml.service(
    name=SPEC.model_name,
    workers=SPEC.workers,
    traffic={"timeout": 60},
    logging={"access": {"enabled": SPEC.access_log}},
)
@bentoml.asgi_app(metadata_app, path="/")
class ModelService:
    bento_model = bentoml.models.BentoModel(SPEC.bento_model)

    def __init__(self) -> None:
        import mlflow.sklearn

        from lifecycle.registry.models import trusted_models

        with trusted_models():  # the files match the sha256 recorded at build time
            self.model = mlflow.sklearn.load_model(str(MODEL_PATH))
        # trained on 0/1 (data.dataset.features_and_target): the answers give the labels back
        self.positive = list(self.model.classes_).index(POSITIVE)
        self.labels = SPEC.labels.of(self.model.classes_)
        self.batcher = AdaptiveBatcher(self.score, SPEC.max_batch_size, SPEC.max_latency_ms)
        self.log = PredictionLog(SPEC.prediction_log_sink, SPEC.prediction_log_path, MODEL_FIELDS)
        quiet_rejections()
        self.roll = Roll(SPEC.workers, bentoml.server_context.worker_index)
        self.roll.sign()

    def __is_ready__(self) -> bool:
        return self.roll.complete()

    @bentoml.on_shutdown  # type: ignore[untyped-decorator]  # no types in BentoML's SDK
    def close(self) -> None:
        self.roll.leave()
        self.batcher.close()
        self.log.close()

    @metadata_app.get("/metadata")
    @metadata_app.get("/metadata/", include_in_schema=False)
    def metadata(self) -> Metadata:
        return METADATA

    @metadata_app.get("/docs.json", include_in_schema=False)
    def docs(self) -> Response:
        return Response(_docs(), media_type="application/json")

    def score(self, rows: list[dict[str, Any]]) -> list[tuple[Any, float]]:
        """One predict_proba call for many rows: (label, probability of the positive) per row."""
        probabilities = self.model.predict_proba(model_frame(SPEC.features, rows))
        labels = self.labels[probabilities.argmax(axis=1)].tolist()
        return list(zip(labels, probabilities[:, self.positive].tolist(), strict=True))

    @bentoml.api(  # type: ignore[untyped-decorator]  # no types in BentoML's SDK
        input_spec=Applicant, output_spec=Prediction
    )
    async def predict(self, ctx: bentoml.Context, **record: Any) -> Response:
        request_id = _request_id(ctx)
        scores = await self.batcher.score([record])
        self.log.write(Entry(now(), request_id, "predict", [record], scores))
        [(label, probability)] = scores
        answer = {"prediction": label, "probability": probability, "request_id": request_id}
        return _json({**answer, **MODEL_FIELDS})

    @bentoml.api(  # type: ignore[untyped-decorator]  # no types in BentoML's SDK
        input_spec=BatchRequest, output_spec=BatchPrediction
    )
    async def predict_batch(self, ctx: bentoml.Context, records: list[dict[str, Any]]) -> Response:
        request_id = _request_id(ctx)
        scores = await self.batcher.score(records)
        self.log.write(Entry(now(), request_id, "predict_batch", records, scores))
        predictions = [{"prediction": label, "probability": p} for label, p in scores]
        return _json({"request_id": request_id, **MODEL_FIELDS, "predictions": predictions})


# @bentoml.service made the class a bentoml Service, which mypy cannot see (SDK untyped)
cast(Any, ModelService).add_asgi_middleware(
    RequestGuard,
    paths=("/predict", "/predict_batch"),
    max_body_bytes=SPEC.max_body_bytes,
    model_version=SPEC.model_version,
)


def _json(answer: dict[str, Any]) -> Response:
    return Response(to_json(answer), media_type="application/json")


@functools.cache
def _docs() -> bytes:
    """The OpenAPI document, made once: BentoML's, with our endpoints' contracts."""
    endpoints: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
        "/predict": (Applicant, Prediction),
        "/predict_batch": (BatchRequest, BatchPrediction),
    }
    return to_json(openapi.document(cast(Any, ModelService).openapi_spec.asdict(), endpoints))


def _request_id(ctx: bentoml.Context) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one; echoed back."""
    sent = ctx.request.headers.get("x-request-id", "")
    request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
    ctx.response.headers["X-Request-ID"] = request_id
    return request_id
