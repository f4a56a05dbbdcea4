"""The actions' READMEs and docs/actions.md are generated from action.yml and must match it."""

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("action_docs", ROOT / "scripts/action_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_are_up_to_date():
    stale = load_generator().stale()
    assert not stale, f"run `python scripts/action_docs.py`; stale: {stale}"


LIFECYCLE = '"${LIFECYCLE_BIN:?run the setup action (actions/setup) first}/lifecycle" '


def test_every_action_is_a_thin_documented_shell():
    for path in sorted((ROOT / "actions").glob("*/action.yml")):
        action = yaml.safe_load(path.read_text())
        assert action["runs"]["using"] == "composite", path
        for name, spec in (action.get("inputs") or {}).items():
            assert spec.get("description"), f"{path}: input {name} has no description"
        for name, spec in (action.get("outputs") or {}).items():
            assert spec.get("description"), f"{path}: output {name} has no description"
        for step in action["runs"]["steps"]:
            script = step.get("run", "")
            assert "${{" not in script, f"{path}: expression inside run: (script injection)"
            assert "python -c" not in script, f"{path}: inline Python"
            if script:
                assert step.get("shell") == "bash", path
            if "\n" in script.strip():  # only setup installs things in a script
                assert path.parent.name == "setup", f"{path}: more than one command line"
                assert script.startswith("set -euo pipefail"), path


def test_every_lifecycle_action_runs_one_verb_on_one_line():
    for path in sorted((ROOT / "actions").glob("*/action.yml")):
        if path.parent.name in ("setup", "lint"):
            continue
        steps = yaml.safe_load(path.read_text())["runs"]["steps"]
        scripts = [step["run"] for step in steps if "run" in step]
        assert len(scripts) == 1, f"{path}: one run step, the verb"
        assert scripts[0].startswith(LIFECYCLE), f"{path}: not one `lifecycle <verb>` line"


def test_lint_is_the_makefile_lint():
    steps = yaml.safe_load((ROOT / "actions/lint/action.yml").read_text())["runs"]["steps"]
    assert [step["run"] for step in steps] == ["make lint"]


@pytest.mark.parametrize(
    ("description", "first"),
    [
        (
            "Deploy by a command, e.g. kubectl or helm. Then.",
            "Deploy by a command, e.g. kubectl or helm.",
        ),
        ("Fetch the data (i.e. dvc pull). Run setup first.", "Fetch the data (i.e. dvc pull)."),
        ("One sentence (`lifecycle alert`).", "One sentence (`lifecycle alert`)."),
        ("Checks p95. p95 too.", "Checks p95."),
    ],
)
def test_the_summary_keeps_the_whole_first_sentence(description, first):
    assert load_generator().first_sentence(description) == first
