"""params.yaml mistakes: exit 2, the key and the file named, no traceback."""

from pathlib import Path

import pytest

from lifecycle import cli
from lifecycle.errors import ConfigError
from lifecycle.settings import load_settings


def run_describe(params, capsys):
    code = cli.main(["describe", "--params", str(params)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_the_repository_params_are_valid():
    settings = load_settings(Path(__file__).resolve().parents[2] / "params.yaml")
    assert settings.data.target not in settings.data.features.all


def test_unknown_key_suggests_the_close_one(params_file, capsys):
    params = params_file({"data": {"targte": "default"}})
    code, err = run_describe(params, capsys)
    assert code == 2
    assert str(params) in err
    assert "data.targte: unknown key (did you mean 'target'?)" in err


def test_unknown_nested_gate_key(params_file, capsys):
    params = params_file({"gates": {"bias": {"default": {"demographic_parity_min": 0.8}}}})
    code, err = run_describe(params, capsys)
    assert code == 2
    assert "gates.bias.default.demographic_parity_min: unknown key" in err
    assert "demographic_parity_ratio_min" in err


def test_wrong_type_names_the_key_and_value(params_file, capsys):
    params = params_file({"data": {"split": {"test_size": "a fifth"}}})
    code, err = run_describe(params, capsys)
    assert code == 2
    assert str(params) in err and "data.split.test_size" in err and "a fifth" in err


def test_out_of_range_value(params_file, capsys):
    params = params_file({"gates": {"drift": {"max_drifted_share": 1.5}}})
    code, err = run_describe(params, capsys)
    assert code == 2 and "gates.drift.max_drifted_share" in err


def test_missing_required_key(params_file, capsys):
    params = params_file(remove=["data.features"])
    code, err = run_describe(params, capsys)
    assert code == 2
    assert str(params) in err and "data.features: required key is missing" in err


def test_bad_yaml_names_the_line(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  target: default\n  features: [age, income\n", encoding="utf-8")
    code, err = run_describe(params, capsys)
    assert code == 2
    assert str(params) in err and "not valid YAML" in err and "line" in err


def test_not_a_mapping(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("- just\n- a list\n", encoding="utf-8")
    code, err = run_describe(params, capsys)
    assert code == 2 and "expected a mapping" in err


def test_missing_settings_file(tmp_path, capsys):
    code, err = run_describe(tmp_path / "nope.yaml", capsys)
    assert code == 2 and "nope.yaml" in err and "not found" in err


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (
            {"gates": {"model": {"directional": {"salary": "increasing"}}}},
            "gates.model.directional",
        ),
        (
            {"gates": {"model": {"invariant_features": ["zodiac"]}}},
            "gates.model.invariant_features",
        ),
        ({"gates": {"bias": {"per_attribute": {"religion": {}}}}}, "gates.bias.per_attribute"),
    ],
)
def test_a_gate_naming_an_unknown_column(params_file, capsys, overrides, key):
    params = params_file(overrides)
    code, err = run_describe(params, capsys)
    assert code == 2
    assert str(params) in err and key in err


def test_a_feature_listed_twice(params_file):
    with pytest.raises(ConfigError, match="'age' is listed twice"):
        load_settings(params_file({"data": {"features": {"categorical": ["age"]}}}))


def test_target_listed_as_a_feature(params_file):
    with pytest.raises(ConfigError, match="also listed as a feature"):
        load_settings(params_file({"data": {"features": {"categorical": ["default"]}}}))
