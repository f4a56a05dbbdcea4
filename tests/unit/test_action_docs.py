"""The actions' READMEs and docs/actions.md are generated from action.yml and must match it."""

import importlib.util
from pathlib import Path

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
                assert script.startswith("set -euo pipefail"), path
