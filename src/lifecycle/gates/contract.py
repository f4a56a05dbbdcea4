"""The data contract (gates.data.contract in params.yaml): schema, ranges, categories, null
shares, uniqueness and distribution bounds per column, plus hand-picked example rows.

It is read and checked like params.yaml: an unknown key or a wrong type is a ConfigError that
names the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lifecycle.errors import ConfigError
from lifecycle.settings import Settings, read_yaml

Bounds = Annotated[list[float], Field(min_length=2, max_length=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnRule(_Strict):
    type: Literal["int64", "float64", "str"]
    max_null_share: Annotated[float, Field(ge=0, le=1)] = 0.0
    min: float | None = None
    max: float | None = None
    allowed: list[Any] | None = None
    unique: bool = False
    mean: Bounds | None = None
    median: Bounds | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ColumnRule:
        numeric = self.type != "str"
        if not numeric and any(v is not None for v in (self.min, self.max, self.mean, self.median)):
            raise ValueError("min, max, mean and median apply to numeric columns only")
        if not numeric and any(isinstance(value, bool) for value in self.allowed or ()):
            raise ValueError("allowed: true and false are booleans; quote them for text: 'true'")
        for name in ("mean", "median"):
            bounds = getattr(self, name)
            if bounds is not None and bounds[0] > bounds[1]:
                raise ValueError(f"{name}: the low bound {bounds[0]} is above the high {bounds[1]}")
        return self


class Example(_Strict):
    name: str
    expect: Literal["positive", "negative"]
    row: dict[str, Any]


class Contract(_Strict):
    extra_columns: Literal["forbid", "allow"] = "forbid"
    columns: dict[str, ColumnRule]
    examples: list[Example] = []
    source: Path = Field(default=Path("contract.yaml"), exclude=True)


def load_contract(settings: Settings) -> Contract:
    """The contract named by gates.data.contract, checked against the settings' columns."""
    path = settings.gates.data.contract
    beside = settings.source.parent / path
    path = beside if not path.is_absolute() and not path.is_file() and beside.is_file() else path
    if not path.is_file():
        raise ConfigError(
            f"{settings.source}: gates.data.contract: {path} not found; point it at the data "
            "contract (for example src/lifecycle/contracts/credit.yaml)"
        )
    raw = read_yaml(path)  # YAML 1.2 booleans: a category written yes or no stays text
    try:
        contract = Contract.model_validate({**(raw or {}), "source": path})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    _check_columns(contract, settings)
    return contract


def _describe(exc: ValidationError, path: Path) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the data contract:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        unknown = error["type"] == "extra_forbidden"
        lines.append(f"  {key}: {'unknown key' if unknown else error['msg']}")
    return "\n".join(lines)


def _check_columns(contract: Contract, settings: Settings) -> None:
    """Every column the settings need must be in the contract, so none goes unchecked."""
    missing = [c for c in settings.data.required_columns if c not in contract.columns]
    if missing:
        raise ConfigError(
            f"{contract.source}: columns: {', '.join(missing)} named in {settings.source} "
            "(data section) but missing from the contract; add a rule for each"
        )
    features = set(settings.data.features.all)
    for example in contract.examples:
        lacking = sorted(features - set(example.row))
        if lacking:
            raise ConfigError(
                f"{contract.source}: examples: '{example.name}' lacks feature(s) "
                f"{', '.join(lacking)}"
            )
