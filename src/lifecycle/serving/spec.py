"""What a Bento serves, recorded once at build time: the model, its hash, the request schema.

The request schema is the training schema: column types and which columns may be null come
from the registered model's MLflow signature; the data contract (``gates.data.contract``) adds
numeric bounds, allowed categories, integer columns and columns allowed to be missing.
``request_model`` turns it into a strict pydantic model: wrong types, missing or extra fields,
values out of bounds, NaN and infinity are rejected.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model

from lifecycle.errors import ConfigError
from lifecycle.settings import Settings

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
    positive_label: int | str = 1
    features: tuple[FeatureSpec, ...]
    max_batch_size: int = 1000
    max_latency_ms: int = 2000
    max_body_bytes: int = 1_000_000
    access_log: bool = False
    prediction_log_sink: Literal["jsonl", "parquet", "off"] = "jsonl"
    prediction_log_path: str = "predictions"

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]


def request_model(features: tuple[FeatureSpec, ...], name: str = "Applicant") -> type[BaseModel]:
    """A strict pydantic model with one required field per feature."""
    fields: dict[str, Any] = {f.name: (_annotation(f), ...) for f in features}
    config = ConfigDict(extra="forbid", strict=True, title=name)
    return create_model(name, __config__=config, **fields)


def _annotation(feature: FeatureSpec) -> Any:
    bounds = {"ge": feature.minimum, "le": feature.maximum}
    if feature.kind == "integer":
        kind: Any = Annotated[int, Field(**bounds)]
    elif feature.kind == "number":
        kind = Annotated[float, Field(allow_inf_nan=False, **bounds)]
    elif feature.categories:
        kind = Literal[feature.categories]
    else:
        kind = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    return kind | None if feature.nullable else kind


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


def signature_inputs(model_dir: Path) -> dict[str, dict[str, Any]]:
    """Column name -> {"type": ..., "required": ...} from the MLmodel file's signature."""
    mlmodel = model_dir / "MLmodel"
    try:
        meta = yaml.safe_load(mlmodel.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{mlmodel}: cannot read the MLflow model description: {exc}") from None
    inputs = (meta.get("signature") or {}).get("inputs")
    if not inputs:
        raise ConfigError(
            f"{mlmodel}: the model was logged without an input signature; the service "
            "derives its request schema from it, so log the model with `signature=`"
        )
    return {column["name"]: column for column in json.loads(inputs) if "name" in column}
