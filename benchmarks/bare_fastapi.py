"""The baselines a user would write instead of a Bento: FastAPI, one predict_proba per request.

``POST /predict`` is a synchronous endpoint (FastAPI runs it in its thread pool);
``POST /predict_async`` is an async one (it runs on the event loop, no thread hop). Both serve
the MLflow model in the folder named by ``BENCH_MODEL_DIR``:

    BENCH_MODEL_DIR=... uvicorn bare_fastapi:app --app-dir benchmarks --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import mlflow.sklearn
import pandas as pd
from fastapi import FastAPI

from lifecycle.registry.models import trusted_models

with trusted_models():
    MODEL = mlflow.sklearn.load_model(os.environ["BENCH_MODEL_DIR"])

app = FastAPI()


def _score(record: dict[str, Any]) -> dict[str, Any]:
    probability = MODEL.predict_proba(pd.DataFrame([record]))[0, 1]
    return {"prediction": int(probability >= 0.5), "probability": float(probability)}


@app.post("/predict")
def predict(record: dict[str, Any]) -> dict[str, Any]:
    return _score(record)


@app.post("/predict_async")
async def predict_async(record: dict[str, Any]) -> dict[str, Any]:
    return _score(record)
