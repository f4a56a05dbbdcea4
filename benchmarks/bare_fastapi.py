"""The baseline a user would write instead of a Bento: FastAPI, one predict_proba per request.

Serves the MLflow model in the folder named by ``BENCH_MODEL_DIR``:

    BENCH_MODEL_DIR=... uvicorn bare_fastapi:app --app-dir benchmarks --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import mlflow.sklearn
import pandas as pd
from fastapi import FastAPI

from lifecycle.registry import trusted_models

with trusted_models():
    MODEL = mlflow.sklearn.load_model(os.environ["BENCH_MODEL_DIR"])

app = FastAPI()


@app.post("/predict")
def predict(record: dict[str, Any]) -> dict[str, Any]:
    probability = MODEL.predict_proba(pd.DataFrame([record]))[0, 1]
    return {"prediction": int(probability >= 0.5), "probability": float(probability)}
