"""The gate registry: one name per gate, everywhere; adding a gate is a three-file change.

The last tests add a toy gate exactly as docs/gates.md says: its module (written to a folder on
the gates package's path, as src/lifecycle/gates/rows.py would be), its settings field (a
``Gates`` with one more field, as settings.py would declare it) and its params.yaml section. The
`gate` verb then runs it, reports it, tags the run with it, and a failing fixture exits 1.
"""

import json
import re
import sys
import textwrap

import pytest
from mlflow import MlflowClient

import lifecycle.gates
from lifecycle import cli
from lifecycle import settings as settings_module
from lifecycle.errors import ConfigError, UsageError
from lifecycle.gates import pr_report, registry
from lifecycle.gates.result import GateReport, GateResult, write_reports
from lifecycle.registry import gate_tags
from lifecycle.registry.tracking import latest_run_id
from lifecycle.settings import Mode, Section, load_settings

# a small, quick model: the toy gate looks at the holdout, not at the model
QUICK = {"max_iter": 20, "max_leaf_nodes": 8}
ROWS_GATE = '''
"""The rows gate: the holdout holds at least gates.rows.min_rows rows."""

from lifecycle.gates.registry import Context, Gate
from lifecycle.gates.result import GateReport, GateResult

NAME = "rows"


def check(context: Context) -> GateReport:
    gate = context.settings.gates.rows
    rows = len(context.test)
    result = GateResult("holdout rows", "rows", rows, gate.min_rows, rows >= gate.min_rows)
    return GateReport(NAME, gate.mode, (result,))


GATE = Gate(NAME, "model", "the holdout has enough rows", check)
'''


def test_every_gate_in_the_settings_has_its_module_under_the_same_name():
    gates = [registry.get(name) for name in registry.names()]
    assert [g.name for g in gates] == list(settings_module.Gates.model_fields)
    assert {g.stage for g in gates} == set(registry.STAGES)
    assert [g.name for g in registry.of_stage("model")] == ["model", "bias", "quality"]
    assert [g.name for g in registry.of_stage("data")] == ["data", "integrity"]


def test_an_unknown_or_misplaced_gate_name_is_a_usage_error_naming_the_choices():
    with pytest.raises(UsageError, match="the gates are data, integrity, model"):
        registry.get("modle")
    with pytest.raises(UsageError, match="unknown gate 'modle'; choose from model, bias"):
        registry.select("bias,modle", "model")
    with pytest.raises(UsageError, match="loadtest runs in `lifecycle loadtest`"):
        registry.select("loadtest", "model")
    assert [g.name for g in registry.select("quality,model", "model")] == ["model", "quality"]


def test_off_is_not_run_and_a_report_under_another_name_is_refused(params_file, tmp_path):
    def misnamed(context):
        return GateReport("other", context.settings.gates.bias.mode)

    gate = registry.Gate("bias", "model", "misnamed", misnamed)
    on = load_settings(params_file({"gates": {"bias": {"mode": "warn"}}}))
    with pytest.raises(ValueError, match="returned a report for 'other'"):
        registry.run(gate, registry.Context(on, tmp_path))
    off = load_settings(params_file({"gates": {"bias": {"mode": "off"}}}))
    assert registry.run(gate, registry.Context(off, tmp_path)) == GateReport("bias", "off")


def test_the_tags_round_trip_and_name_only_failed_enforced_gates():
    failed = GateReport("bias", "enforce", (GateResult("c", "m", 0, 1, False),))
    warned = GateReport("model", "warn", (GateResult("c", "m", 0, 1, False),))
    tags = {**gate_tags.write(failed), **gate_tags.write(warned), "gate.quality.passed": "true"}
    assert tags["gate.bias.passed"] == "false" and tags["gate.bias.mode"] == "enforce"
    assert gate_tags.read(tags) == {
        "bias": (False, "enforce"),
        "model": (False, "warn"),
        "quality": (True, "?"),
    }
    assert gate_tags.failed_enforced(tags) == ["bias"]


def test_the_pr_report_lists_gates_in_lifecycle_order(tmp_path):
    for name in ("drift", "zzz", "bias", "data"):
        write_reports(GateReport(name, "enforce"), tmp_path)
    assert [g.gate for g in pr_report.load_reports(tmp_path)] == ["data", "bias", "drift", "zzz"]


# --- adding a gate: module, settings field, params.yaml ---------------------------------------


@pytest.fixture
def rows_gate(tmp_path, monkeypatch):
    """The three files of a new gate `rows`, in place for this test only."""
    folder = tmp_path / "more_gates"
    folder.mkdir()
    (folder / "rows.py").write_text(textwrap.dedent(ROWS_GATE), encoding="utf-8")
    monkeypatch.setattr(lifecycle.gates, "__path__", [*lifecycle.gates.__path__, str(folder)])

    class RowsGate(Section):
        mode: Mode = "enforce"
        min_rows: int = 100

    class Gates(settings_module.Gates):
        rows: RowsGate = RowsGate()

    class Settings(settings_module.Settings):
        gates: Gates = Gates()

    monkeypatch.setattr(settings_module, "Settings", Settings)
    yield
    sys.modules.pop("lifecycle.gates.rows", None)


@pytest.fixture
def rows_params(params_file):
    def write(min_rows):
        gates = {"rows": {"mode": "enforce", "min_rows": min_rows}}
        return params_file({"model": {"params": QUICK}, "gates": gates})

    return write


def test_a_settings_section_without_its_module_is_a_config_error(rows_gate, monkeypatch):
    monkeypatch.setattr(lifecycle.gates, "__path__", lifecycle.gates.__path__[:1])
    with pytest.raises(ConfigError, match="declares no GATE"):
        registry.get("rows")


@pytest.mark.slow
def test_an_added_gate_runs_reports_and_tags_the_run(
    rows_gate, rows_params, tracking, tmp_path, capsys
):
    params = rows_params(min_rows=10)
    assert cli.main(["train", "--params", str(params)]) == 0
    assert "rows" in [g.name for g in registry.select(None, "model")]

    assert cli.main(["gate", "--params", str(params), "--only", "rows"]) == 0

    assert re.search(r"^rows +enforce +1 of 1 +✅ pass$", capsys.readouterr().out, re.MULTILINE)
    report = json.loads((tmp_path / "reports" / "rows.json").read_text())
    assert report["gate"] == "rows" and report["passed"]
    assert [g.gate for g in pr_report.load_reports(tmp_path / "reports")] == ["rows"]
    run_id = latest_run_id(load_settings(params))
    tags = MlflowClient().get_run(run_id).data.tags
    assert gate_tags.read(tags) == {"rows": (True, "enforce")}


@pytest.mark.slow
def test_an_added_gate_that_fails_exits_1_and_blocks_registration(
    rows_gate, rows_params, tracking, capsys
):
    params = rows_params(min_rows=10**9)
    assert cli.main(["train", "--params", str(params)]) == 0

    assert cli.main(["gate", "--params", str(params), "--only", "rows"]) == 1

    assert "gate 'rows' (mode enforce): holdout rows: rows = " in capsys.readouterr().err
    assert cli.main(["register", "--params", str(params)]) == 1
    assert "failed the enforced gate(s) rows" in capsys.readouterr().err
