"""`lifecycle gate` end to end on the embedded MLflow store: train, gate, register.

The gate verb loads the run's model, recomputes the holdout, writes reports, tags the run; a
failed enforced gate exits 1, names the gate, and `register` then refuses the run.
"""

import json
import re

import pytest
from gate_helpers import QUICK
from mlflow import MlflowClient
from mlflow.models import get_model_info

from lifecycle import cli
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate
from lifecycle.registry import aliases, models
from lifecycle.registry.tracking import latest_run_id
from lifecycle.settings import load_settings

pytestmark = pytest.mark.slow  # trains and logs models: each test takes 10-30 s


@pytest.fixture
def params(params_file, tmp_path):
    """params.yaml with a quick model, on default data (20k rows: group rates need rows)."""

    def write(problems=(), rows=20_000, **overrides):
        data = write_table(generate(rows, 42, problems), tmp_path / "data" / f"{rows}.parquet")
        return params_file({"data": {"path": str(data)}, "model": {"params": QUICK}, **overrides})

    return write


def train_and_gate(path, *extra):
    assert cli.main(["train", "--params", str(path)]) == 0
    return cli.main(["gate", "--params", str(path), *extra])


def test_gate_passes_tags_the_run_and_logs_the_reports(tracking, params, tmp_path, capsys):
    path = params()
    assert train_and_gate(path) == 0

    out = capsys.readouterr().out
    assert "full report: reports/train.md (or --verbose)" in out  # train: a compact summary
    assert "| hyperparameter |" not in out and "Mode: **" not in out
    assert "| hyperparameter | value |" in (tmp_path / "reports" / "train.md").read_text()
    for gate in ("model", "bias", "quality"):
        assert re.search(rf"^{gate} +enforce +\d+ of \d+ +✅ pass$", out, re.MULTILINE)
        assert json.loads((tmp_path / "reports" / f"{gate}.json").read_text())["passed"]
    assert "no champion registered under alias 'prod'" in out
    run_id = latest_run_id(load_settings(path))
    tags = MlflowClient().get_run(run_id).data.tags
    assert tags["gate.bias.passed"] == "true" and tags["gate.bias.mode"] == "enforce"
    logged = {a.path for a in MlflowClient().list_artifacts(run_id, "gates")}
    assert {"gates/model.json", "gates/bias.md", "gates/model.html"} <= logged


@pytest.mark.parametrize(
    ("mapping", "positive"), [({1: "yes", 0: "no"}, "yes"), ({1: True, 0: False}, True)]
)
def test_a_target_of_other_labels_trains_passes_the_gates_and_keeps_them(
    tracking, params_file, tmp_path, capsys, mapping, positive
):
    """The credit data with its 1/0 target stored as text or booleans: the same model is fitted,
    the gates pass, and the logged model's metadata holds the two labels for serving."""
    frame = generate(20_000, 42)
    frame["default"] = frame["default"].map(mapping)
    data = write_table(frame, tmp_path / "data" / "labels.parquet")
    path = params_file({"data": {"path": str(data), "positive_label": positive},
                        "model": {"params": QUICK}})  # fmt: skip

    assert cli.main(["train", "--params", str(path), "--verbose"]) == 0

    out = capsys.readouterr().out
    report = (tmp_path / "reports" / "train.md").read_text()
    assert report.strip() in out  # --verbose: the full report on the terminal
    negative = mapping[0]
    assert f"`{positive!r}` is the positive class (1), `{negative!r}` the other (0)" in report
    run_id = latest_run_id(load_settings(path))
    uri = MlflowClient().get_run(run_id).data.tags["model.uri"]
    assert get_model_info(uri).metadata["labels"] == {"negative": negative, "positive": positive}

    assert cli.main(["gate", "--params", str(path)]) == 0

    out = capsys.readouterr().out
    for gate in ("model", "bias", "quality"):
        assert re.search(rf"^{gate} +enforce +\d+ of \d+ +✅ pass$", out, re.MULTILINE)


def test_biased_data_fails_the_bias_gate_and_nothing_is_registered(tracking, params, capsys):
    path = params(problems=("bias",), rows=5000)

    assert train_and_gate(path, "--only", "bias") == 1

    err = capsys.readouterr().err
    assert "gate 'bias' (mode enforce)" in err and "demographic_parity_ratio" in err
    assert cli.main(["register", "--params", str(path)]) == 1
    assert "bias" in capsys.readouterr().err
    versions = MlflowClient().search_model_versions(f"name='{load_settings(path).model.name}'")
    assert versions == []


def test_a_challenger_worse_than_the_prod_champion_fails_quality(tracking, params, capsys):
    good = params(rows=5000)
    assert cli.main(["train", "--params", str(good)]) == 0
    settings = load_settings(good)
    version = models.register(settings, latest_run_id(settings))
    aliases.promote(settings, "prod", version, actor="test")
    weak = params(rows=5000, model={"params": {"max_iter": 2, "max_leaf_nodes": 2}})

    assert train_and_gate(weak, "--only", "quality") == 1

    err = capsys.readouterr().err
    assert "gate 'quality'" in err and f"champion v{version}" in err


def test_an_unknown_gate_name_exits_2(tracking, settings, capsys):
    assert cli.main(["gate", "--params", str(settings.source), "--only", "modle"]) == 2
    assert "unknown gate 'modle'; choose from model, bias, quality" in capsys.readouterr().err
