"""`lifecycle changes`: this checkout's data, settings, code and lock file against the version an
environment serves (what retraining asks before it trains)."""

import pytest
import yaml

from lifecycle import cli
from lifecycle.data.dataset import write_table
from lifecycle.data.generator import generate
from lifecycle.registry import changes, models
from lifecycle.settings import load_settings
from lifecycle.training.fit import train

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # trains and registers a model


def outputs(path):
    """The step outputs written to GITHUB_OUTPUT (name<<delimiter ... delimiter)."""
    found, lines = {}, path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    while lines:
        name, _, delimiter = lines.pop(0).partition("<<")
        value = []
        while lines[0] != delimiter:
            value.append(lines.pop(0))
        lines.pop(0)
        found[name] = "\n".join(value)
    return found


def run_changes(params, out, *extra):
    out.unlink(missing_ok=True)
    code = cli.main(["changes", "--params", str(params), *extra])
    return code, outputs(out)


@pytest.fixture
def out(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path / "github_output"


@pytest.fixture
def prod_serves(params_file, tracking, out):
    """params of a model trained here, registered and promoted to prod."""
    params = params_file()
    settings = load_settings(params)
    version = models.register(settings, train(settings).run_id)
    promote = ["promote", "--params", str(params), "--env", "prod", "--version", version]
    assert cli.main(promote) == 0
    return params


def test_nothing_changed_since_the_served_version(prod_serves, out, capsys):
    code, found = run_changes(prod_serves, out, "--env", "prod")
    assert code == 0
    assert found["changed"] == "false", found
    assert "nothing changed since version 1 (prod)" in capsys.readouterr().out


def test_other_settings_are_a_change(prod_serves, out):
    raw = yaml.safe_load(prod_serves.read_text(encoding="utf-8"))
    raw["model"]["params"]["max_iter"] += 1
    prod_serves.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    code, found = run_changes(prod_serves, out)
    assert (code, found["changed"]) == (0, "true")
    assert found["summary"] == "changed since version 1 (prod): settings"


def test_other_data_is_a_change(prod_serves, out):
    settings = load_settings(prod_serves)
    write_table(generate(500, seed=99), settings.data.path)  # same file, other rows
    code, found = run_changes(prod_serves, out)
    assert (code, found["changed"]) == (0, "true")
    assert found["summary"] == "changed since version 1 (prod): data"


def test_a_version_that_recorded_nothing_counts_as_changed(prod_serves, out, tracking):
    from mlflow import MlflowClient

    settings = load_settings(prod_serves)
    MlflowClient().delete_model_version_tag(settings.model.name, "1", "code.sha256")
    code, found = run_changes(prod_serves, out)
    assert (code, found["changed"]) == (0, "true")
    assert found["summary"] == "changed since version 1 (prod): code"
    table = changes.compare(settings, "prod").markdown()
    assert "| code | `unknown` |" in table


def test_an_environment_serving_nothing_yet_has_something_to_train(params_file, tracking, out):
    params = params_file()
    code, found = run_changes(params, out, "--env", "staging")
    assert (code, found["changed"]) == (0, "true")
    assert "staging serves no version yet" in found["summary"]


def test_an_unknown_environment_is_a_usage_error(params_file, tracking, out, capsys):
    code, _ = run_changes(params_file(), out, "--env", "qa")
    assert code == 2
    assert "unknown environment 'qa'" in capsys.readouterr().err
