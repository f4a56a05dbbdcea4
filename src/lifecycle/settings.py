"""params.yaml parsed once into typed, validated settings.

Every section forbids unknown keys, so a misspelt key is an error that names the key, the file
and, when one is close, the key that was probably meant.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lifecycle.errors import ConfigError

DEFAULT_PARAMS = Path("params.yaml")
BOOL_TAG = "tag:yaml.org,2002:bool"

Mode = Literal["enforce", "warn", "off"]
Fraction = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Split(Section):
    test_size: Annotated[float, Field(gt=0, lt=1)] = 0.2
    seed: int = 42
    stratify: bool = True


class Features(Section):
    numeric: list[str] = []
    categorical: list[str] = []

    @property
    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical]


class DataSettings(Section):
    path: Path = Path("data/credit.parquet")
    target: str = "default"
    # bool first: a YAML true/false stays a bool, so a text target can say to quote it
    positive_label: bool | int | str = 1
    id_column: str | None = None
    features: Features
    protected_attributes: list[str] = []
    split: Split = Split()

    @model_validator(mode="after")
    def _distinct_columns(self) -> DataSettings:
        seen: set[str] = set()
        for column in self.features.all:
            if column in seen:
                raise ValueError(f"feature '{column}' is listed twice")
            seen.add(column)
        if self.target in seen:
            raise ValueError(f"the target '{self.target}' is also listed as a feature")
        if not seen:
            raise ValueError("features lists no columns: add numeric or categorical columns")
        return self

    @property
    def required_columns(self) -> list[str]:
        """Columns the data must have: features, target, protected attributes, id."""
        extra = [c for c in self.protected_attributes if c not in self.features.all]
        ident = [self.id_column] if self.id_column else []
        return [*ident, *self.features.all, *extra, self.target]


class Search(Section):
    enabled: bool = False
    kind: Literal["grid", "random"] = "random"
    n_trials: Annotated[int, Field(ge=1)] = 8
    metric: str = "roc_auc"
    cv: Annotated[int, Field(ge=2)] = 3
    space: dict[str, list[Any]] = {}


class ModelCard(Section):
    """What `lifecycle card` says about the model's intended use and its limits."""

    intended_use: str = "Not stated yet: describe it in params.yaml (model.card.intended_use)."
    limitations: list[str] = []


class ModelSettings(Section):
    name: str = "credit-default"
    estimator: str = "sklearn.ensemble.HistGradientBoostingClassifier"
    params: dict[str, Any] = {}
    seed: int = 42
    search: Search = Search()
    card: ModelCard = ModelCard()


class GateSection(Section):
    """What every gate's section holds: its mode (enforce blocks, warn reports, off skips)."""

    mode: Mode = "enforce"


class DataGate(GateSection):
    contract: Path = Path("src/lifecycle/contracts/credit.yaml")
    min_rows: Annotated[int, Field(ge=1)] = 1000
    max_rows: Annotated[int, Field(ge=1)] = 10_000_000


class IntegrityGate(GateSection):
    """deepchecks data integrity and train-test validation on the data to train on."""

    # leakage: largest predictive power score (PPS) one feature may have for the label
    max_feature_pps: Fraction = 0.6
    # leakage or a bad split: largest change of a feature's PPS between train and test
    max_pps_change: Fraction = 0.2
    # train-test drift: largest drift score of a feature or of the label between the splits
    max_drift_score: Fraction = 0.1
    # label balance: smallest share of the rarest class
    min_label_share: Fraction = 0.05
    # conflicting labels: largest share of rows whose identical features carry different labels
    max_conflicting_share: Fraction = 0.01


class ModelGate(GateSection):
    # minimum value per metric on the holdout
    thresholds: dict[str, float] = {"roc_auc": 0.70}
    # the model must beat a trivial baseline by this margin on the main metric
    baseline_margin: float = 0.05
    max_latency_ms_per_row: Positive = 5.0
    max_size_mb: Positive = 50.0
    # features whose perturbation must not change predictions (beyond the tolerance)
    invariant_features: list[str] = []
    invariance_tolerance: Fraction = 0.02
    # feature -> "increasing" | "decreasing": raising the feature must move P(positive) that way
    directional: dict[str, Literal["increasing", "decreasing"]] = {}
    # deepchecks TrainTestPerformance: largest relative drop of roc_auc from train to holdout
    max_train_test_degradation: Fraction = 0.1


class FairnessThreshold(Section):
    demographic_parity_ratio_min: Fraction = 0.8
    equalized_odds_difference_max: Fraction = 0.1


class BiasGate(GateSection):
    default: FairnessThreshold = FairnessThreshold()
    per_attribute: dict[str, FairnessThreshold] = {}
    # deepchecks PerformanceBias: largest allowed drop of the metric in a subgroup
    max_subgroup_degradation: Fraction = 0.1

    def threshold_for(self, attribute: str) -> FairnessThreshold:
        return self.per_attribute.get(attribute, self.default)


class QualityGate(GateSection):
    # metric -> largest allowed drop of the challenger below the champion
    max_regression: dict[str, Annotated[float, Field(ge=0)]] = {"roc_auc": 0.01}
    champion_alias: str = "prod"


class LoadTestGate(GateSection):
    users: Annotated[int, Field(ge=1)] = 10
    spawn_rate: Positive = 10
    duration_s: Positive = 10
    invalid_share: Fraction = 0.1
    p95_ms: Positive = 500
    max_error_rate: Fraction = 0.01
    min_rps: Annotated[float, Field(ge=0)] = 20
    # Locust worker processes on this host under one master (0: a single Locust process)
    workers: Annotated[int, Field(ge=0)] = 0


class DriftGate(GateSection):
    # a feature drifts when its PSI is above psi_max AND its KS / chi-square p-value is below
    # p_value_min (a shift both material and unlikely to be chance)
    psi_max: Positive = 0.1
    p_value_min: Fraction = 0.01
    # the window drifts when more than this share of the features drift
    max_drifted_share: Fraction = 0.3
    # ROC AUC of a classifier told to separate reference rows from current rows (0.5: it can't)
    domain_auc_max: Annotated[float, Field(ge=0.5, le=1)] = 0.65
    prediction_psi_max: Positive = 0.2
    missing_share_max: Fraction = 0.2
    min_rows: Annotated[int, Field(ge=1)] = 200
    performance_drop_max: Fraction = 0.05


class Gates(Section):
    """One field per gate, in lifecycle order: the gate registry's list (docs/gates.md). Each
    field's name is the gate's name and module, ``lifecycle.gates.<name>``."""

    data: DataGate = DataGate()
    integrity: IntegrityGate = IntegrityGate()
    model: ModelGate = ModelGate()
    bias: BiasGate = BiasGate()
    quality: QualityGate = QualityGate()
    loadtest: LoadTestGate = LoadTestGate()
    drift: DriftGate = DriftGate()


class PredictionLog(Section):
    sink: Literal["jsonl", "parquet", "off"] = "jsonl"
    path: str = "predictions"


class ServingSettings(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 3000
    max_batch_size: Annotated[int, Field(ge=1)] = 1000
    max_latency_ms: Annotated[int, Field(ge=1)] = 2000
    max_body_bytes: Annotated[int, Field(ge=1)] = 1_000_000
    startup_timeout_s: Positive = 120
    # worker processes, or "cpu_count" (one per core of the serving machine, counted there):
    # workers share the cores with nothing else in production, and a worker per core served the
    # most on the benchmark (benchmarks/bench_serving.py, README "Workers")
    workers: Annotated[int, Field(ge=1)] | Literal["cpu_count"] = "cpu_count"
    # BentoML's line per request; the prediction log already records every request
    access_log: bool = False
    prediction_log: PredictionLog = PredictionLog()


Port = Annotated[int, Field(ge=1, le=65535)]


class SshDeploy(Section):
    """Target ``ssh``: the layout on the serving host. Who and where (host, user, key, pinned
    host key) come from the LIFECYCLE_SSH_* environment variables, never from this file."""

    # the deploy folder on the host (relative: in the user's home); one sub-folder per environment
    dir: str = "lifecycle"
    # the host's Python with bentoml and supervisor; default: <dir>/runtime/bin/python, the
    # virtual environment `lifecycle deploy --bootstrap` makes from uv.lock
    python: str | None = None
    # where nginx listens for the public port (deploy.port)
    listen: str = "0.0.0.0"  # noqa: S104 (a serving host's public address)
    # the two slots, blue and green: Bento servers on the host's loopback, behind nginx
    slot_ports: tuple[Port, Port] = (8001, 8002)
    # free space left on the host after an upload and its import, checked before uploading
    min_free_mb: Annotated[int, Field(ge=0)] = 256


class Deploy(Section):
    target: Literal["local", "command", "ssh"] = "local"
    # replace: the new version takes over once smoke-tested, the old one stops; blue-green (ssh):
    # the old one stays warm in the other slot, so a rollback is a switch back
    strategy: Literal["replace", "blue-green"] = "replace"
    # for target "command": a template receiving {bento_tag}, {image}, {environment}, {version}
    command: str | None = None
    # the environment's port (target ssh: the public port, nginx's)
    port: Port | None = None
    # the deployment's base URL, smoke-tested after each deploy (optional; target ssh: default
    # http://<LIFECYCLE_SSH_HOST>:<port>)
    url: str | None = None
    # `lifecycle kubernetes` (a command target's rendering): the Deployment's pods; two, so a
    # crashed pod or a drained node leaves one serving
    replicas: Annotated[int, Field(ge=1)] = 2
    ssh: SshDeploy = SshDeploy()

    @model_validator(mode="after")
    def _target_needs(self) -> Deploy:
        if self.target == "command" and not self.command:
            raise ValueError("target 'command' needs a 'command' template")
        if self.target == "ssh":
            if self.port is None:
                raise ValueError("target 'ssh' needs 'port', the public port nginx listens on")
            if len({self.port, *self.ssh.slot_ports}) != 3:
                raise ValueError(
                    "target 'ssh': 'port' and the two 'ssh.slot_ports' must be three "
                    "different ports"
                )
        elif self.strategy != "replace":
            raise ValueError(
                f"strategy '{self.strategy}' needs target 'ssh' (two slots behind nginx)"
            )
        return self


class Environment(Section):
    alias: str | None = None
    deploy: Deploy = Deploy()

    def alias_for(self, name: str) -> str:
        return self.alias or name


class Settings(Section):
    data: DataSettings
    model: ModelSettings = ModelSettings()
    gates: Gates = Gates()
    serving: ServingSettings = ServingSettings()
    environments: dict[str, Environment] = {
        "dev": Environment(),
        "staging": Environment(),
        "prod": Environment(),
    }
    source: Path = Field(default=DEFAULT_PARAMS, exclude=True)


class YamlLoader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader with YAML 1.2 booleans: only true and false (any case) are booleans.

    PyYAML follows YAML 1.1, where yes, no, on, off, y and n are booleans too: a label or a
    category written ``yes`` would silently become True. Here they stay text.
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[Any]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != BOOL_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


YamlLoader.add_implicit_resolver(
    BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(path: Path) -> Any:
    """A YAML file read with ``YamlLoader``; bad YAML is a ConfigError naming the line."""
    return parse_yaml(path.read_text(encoding="utf-8"), path)


def parse_yaml(text: str, source: Path) -> Any:
    """YAML text (from ``source``) read with ``YamlLoader``."""
    try:
        return yaml.load(text, Loader=YamlLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        raise ConfigError(f"{source}: not valid YAML{where}: {problem}") from None


def load_settings(path: Path | str = DEFAULT_PARAMS) -> Settings:
    """Read and validate a params file. Raises ConfigError naming the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{path}: settings file not found. Pass --params or run from the repository root."
        )
    return parse_settings(read_yaml(path), path)


def parse_settings(raw: Any, path: Path) -> Settings:
    """Validate settings already read from ``path`` (a mapping of sections)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (data, model, gates, ...)")
    if "source" in raw:
        raise ConfigError(f"{path}: 'source' is not a settings key")
    try:
        settings = Settings.model_validate({**raw, "source": path})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    _check_references(settings)
    return settings


def _describe(exc: ValidationError, path: Path) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the settings:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key{_suggestion(error['loc'])}")
        elif error["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
        else:
            lines.append(f"  {key}: {error['msg']} (got {error.get('input')!r})")
    return "\n".join(lines)


def _suggestion(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    known = [name for name in model.model_fields if name != "source"]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(known)})"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings class found by following a key path (dict keys are stepped over)."""
    model: type[BaseModel] = Settings
    parts = iter(loc)
    for part in parts:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            next(parts, None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _check_references(settings: Settings) -> None:
    """Cross-section checks: every column a gate names must be a known column."""
    known = set(settings.data.required_columns)
    gate = settings.gates.model
    named = {
        "gates.model.invariant_features": gate.invariant_features,
        "gates.model.directional": list(gate.directional),
        "gates.bias.per_attribute": list(settings.gates.bias.per_attribute),
    }
    for key, columns in named.items():
        for column in columns:
            if column not in known:
                raise ConfigError(
                    f"{settings.source}: {key}: '{column}' is not a column named in data "
                    f"(features, protected_attributes or target)"
                )
    for attribute in settings.gates.bias.per_attribute:
        if attribute not in settings.data.protected_attributes:
            raise ConfigError(
                f"{settings.source}: gates.bias.per_attribute: '{attribute}' is not listed in "
                "data.protected_attributes"
            )
