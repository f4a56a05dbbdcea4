"""What a Bento serves, recorded once at build time: the model, its hash, the request schema.

The request schema is the training schema: column types and which columns may be null come
from the registered model's MLflow signature; the data contract (``gates.data.contract``) adds
numeric bounds, allowed categories, integer columns and columns allowed to be missing.
``request_model`` turns it into a strict pydantic model: wrong types, missing or extra fields,
values out of bounds, NaN and infinity are rejected. ``batch_model`` is the body of a batch
request: the same rules, each record validated into a plain dict (no model object per record),
and no key but ``records``.

The answers carry the target's own labels (text, booleans or integers), read from the model's
metadata at build time (``model_labels``), never from params.yaml at serve time; ``answer_models``
describes them: ``prediction`` is one of the two labels, ``probability`` that of the positive one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from lifecycle.errors import ConfigError
from lifecycle.serving.workers import Workers
from lifecycle.settings import Settings
from lifecycle.training.model import Labels, read_labels

Kind = Literal["integer", "number", "category"]
SIGNATURE_KINDS: dict[str, Kind] = {
    "long": "integer",
    "integer": "integer",
    "double": "number",
    "float": "number",
    "string": "category",
}
# names the prediction log uses for its own columns; a feature may not take them
RESERVED = ("timestamp", "request_id", "endpoint", "model_name", "model_version", "index",
            "prediction", "probability")  # fmt: skip
MAX_TEXT = 200
MAX_RECORDS = 1000  # per batch request; the batcher splits them by max_batch_size


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureSpec(Frozen):
    name: str
    kind: Kind
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] | None = None


class ServingSpec(Frozen):
    """Everything the service needs, stored in the Bento as its build arguments."""

    model_name: str
    model_version: str
    bento_model: str
    sha256: str
    labels: Labels = Labels()  # what the model's classes 0 and 1 stand for
    features: tuple[FeatureSpec, ...]
    max_batch_size: int = 1000
    max_latency_ms: int = 2000
    max_body_bytes: int = 1_000_000
    workers: Workers = 1
    access_log: bool = False
    prediction_log_sink: Literal["jsonl", "parquet", "off"] = "jsonl"
    prediction_log_path: str = "predictions"

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]


def request_model(features: tuple[FeatureSpec, ...], name: str = "Applicant") -> type[BaseModel]:
    """A strict pydantic model with one required field per feature."""
    fields: dict[str, Any] = {f.name: (_annotation(f), ...) for f in features}
    return create_model(name, __config__=_strict(name), **fields)


def batch_model(features: tuple[FeatureSpec, ...], name: str = "Applicant") -> type[BaseModel]:
    """``{"records": [...]}``: 1 to ``MAX_RECORDS`` records, each checked as ``request_model``
    checks one, but validated into a dict; every bad record is named in the errors."""
    typed_dict: Any = TypedDict  # called with a name known only at run time: no static type
    record = typed_dict(name, {f.name: _annotation(f) for f in features})
    record.__pydantic_config__ = _strict(name)
    size = Field(min_length=1, max_length=MAX_RECORDS)
    records: Any = Annotated[list[record], size]  # type: ignore[valid-type]  # a run-time type
    config = ConfigDict(extra="forbid", title="BatchRequest")
    return create_model("BatchRequest", __config__=config, records=(records, ...))


def _strict(name: str) -> ConfigDict:
    return ConfigDict(extra="forbid", strict=True, title=name)


def _annotation(feature: FeatureSpec) -> Any:
    low, high = feature.minimum, feature.maximum
    if feature.kind == "integer":  # 79.0 is an integer in JSON Schema, as it is here
        kind: Any = Annotated[int, Field(strict=False, ge=low, le=high), BeforeValidator(_number)]
    elif feature.kind == "number":
        kind = Annotated[float, Field(allow_inf_nan=False, ge=low, le=high)]
    elif feature.categories:
        kind = Literal[feature.categories]
    else:
        kind = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    return kind | None if feature.nullable else kind


def model_frame(features: tuple[FeatureSpec, ...], rows: list[dict[str, Any]]) -> Any:
    """Valid rows as the model was trained on them: numbers as float64, missing values as NaN.

    Built column by column from plain lists (ten times faster than converting a frame's
    columns one by one, which mattered: it was the largest cost of a one-row request);
    numpy turns a None into NaN in a float64 array by itself.
    """
    import numpy as np
    import pandas as pd

    columns = {}
    for feature in features:
        name = feature.name
        if feature.kind == "category":
            values = [np.nan if (v := row[name]) is None else v for row in rows]
            columns[name] = np.array(values, dtype=object)
        else:
            columns[name] = np.array([row[name] for row in rows], dtype="float64")
    return pd.DataFrame(columns)


def _number(value: Any) -> Any:
    """Only a JSON number may become an integer (not text, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def example_record(features: tuple[FeatureSpec, ...]) -> dict[str, Any]:
    """A valid record: the middle of each numeric range, the first category."""
    return {f.name: _middle(f) for f in features}


def _middle(feature: FeatureSpec) -> Any:
    if feature.kind == "category":
        return feature.categories[0] if feature.categories else "unknown"
    low = feature.minimum if feature.minimum is not None else 0.0
    high = feature.maximum if feature.maximum is not None else max(low, 0.0) + 1.0
    middle = (low + high) / 2
    return math.floor(middle) if feature.kind == "integer" else middle


def feature_specs(settings: Settings, model_dir: Path) -> tuple[FeatureSpec, ...]:
    """The request schema of a downloaded MLflow model, bounded by the data contract."""
    from lifecycle.gates.contract import load_contract

    signature = signature_inputs(model_dir)
    rules = load_contract(settings).columns if settings.gates.data.contract.is_file() else {}
    specs = []
    for name in settings.data.features.all:
        if name in RESERVED:
            raise ConfigError(
                f"{settings.source}: feature '{name}' uses a name the prediction log reserves "
                f"({', '.join(RESERVED)}): rename the column"
            )
        specs.append(_feature(name, signature.get(name, {}), rules.get(name)))
    return tuple(specs)


def _feature(name: str, column: dict[str, Any], rule: Any) -> FeatureSpec:
    """Type and nullability from the signature; the contract narrows type, range, categories."""
    kind = SIGNATURE_KINDS.get(str(column.get("type")))
    if kind is None:
        raise ConfigError(
            f"the model's signature has no usable type for feature '{name}' "
            f"(got {column.get('type')!r}): log the model with a signature"
        )
    nullable = not column.get("required", True)
    if rule is None:
        return FeatureSpec(name=name, kind=kind, nullable=nullable)
    if rule.type == "int64" and kind == "number":
        kind = "integer"
    categories = (
        tuple(str(v) for v in rule.allowed) if rule.allowed and kind == "category" else None
    )
    return FeatureSpec(
        name=name,
        kind=kind,
        nullable=nullable or rule.max_null_share > 0,
        minimum=rule.min,
        maximum=rule.max,
        categories=categories,
    )


def answer_models(labels: Labels) -> tuple[type[BaseModel], type[BaseModel]]:
    """The answers of ``/predict`` and ``/predict_batch``: each prediction is one of the
    model's two labels (an enum of their own JSON type) with P(positive label)."""
    shown = f"{labels.positive!r} (positive) or {labels.negative!r}"
    label: Any = Literal[(labels.negative, labels.positive)]
    score = create_model(
        "Score",
        prediction=(label, Field(description=f"the predicted label: {shown}")),
        probability=(
            float,
            Field(ge=0, le=1, description=f"probability of the positive label {labels.positive!r}"),
        ),
    )
    ids: dict[str, Any] = {"request_id": (str, ...), "model_name": (str, ...),
                           "model_version": (str, ...)}  # fmt: skip
    scores: Any = list[score]  # type: ignore[valid-type]  # a run-time type
    single = create_model("Prediction", __base__=score, **ids)
    batch = create_model("BatchPrediction", **ids, predictions=(scores, ...))
    return single, batch


def model_labels(model_dir: Path) -> Labels:
    """The target's labels a downloaded MLflow model was trained for (its metadata)."""
    return read_labels(_mlmodel(model_dir).get("metadata"))


def signature_inputs(model_dir: Path) -> dict[str, dict[str, Any]]:
    """Column name -> {"type": ..., "required": ...} from the MLmodel file's signature."""
    mlmodel = model_dir / "MLmodel"
    inputs = (_mlmodel(model_dir).get("signature") or {}).get("inputs")
    if not inputs:
        raise ConfigError(
            f"{mlmodel}: the model was logged without an input signature; the service "
            "derives its request schema from it, so log the model with `signature=`"
        )
    return {column["name"]: column for column in json.loads(inputs) if "name" in column}


def _mlmodel(model_dir: Path) -> dict[str, Any]:
    """The MLmodel file of a downloaded MLflow model, as a mapping."""
    mlmodel = model_dir / "MLmodel"
    try:
        meta = yaml.safe_load(mlmodel.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{mlmodel}: cannot read the MLflow model description: {exc}") from None
    return meta if isinstance(meta, dict) else {}
