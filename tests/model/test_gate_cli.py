"""`lifecycle gate` end to end on the embedded MLflow store: train, gate, register.

The gate verb loads the run's model, recomputes the holdout, writes reports, tags the run; a
failed enforced gate exits 1, names the gate, and `register` then refuses the run.
"""

import json

import pytest
from gate_helpers import QUICK
from mlflow import MlflowClient

from lifecycle import cli, registry
from lifecycle.data import write_table
from lifecycle.datagen import generate
from lifecycle.settings import load_settings
from lifecycle.tracking import latest_run_id

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
    for gate in ("model", "bias", "quality"):
        assert f"| {gate} | enforce | ✅ pass |" in out
        assert json.loads((tmp_path / "reports" / f"{gate}.json").read_text())["passed"]
    assert "no champion registered under alias 'prod'" in out
    run_id = latest_run_id(load_settings(path))
    tags = MlflowClient().get_run(run_id).data.tags
    assert tags["gate.bias.passed"] == "true" and tags["gate.bias.mode"] == "enforce"
    logged = {a.path for a in MlflowClient().list_artifacts(run_id, "gates")}
    assert {"gates/model.json", "gates/bias.md", "gates/model.html"} <= logged


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
    version = registry.register(settings, latest_run_id(settings))
    registry.promote(settings, "prod", version, actor="test")
    weak = params(rows=5000, model={"params": {"max_iter": 2, "max_leaf_nodes": 2}})

    assert train_and_gate(weak, "--only", "quality") == 1

    err = capsys.readouterr().err
    assert "gate 'quality'" in err and f"champion v{version}" in err


def test_an_unknown_gate_name_exits_2(tracking, settings, capsys):
    assert cli.main(["gate", "--params", str(settings.source), "--only", "modle"]) == 2
    assert "unknown gate(s) modle" in capsys.readouterr().err
