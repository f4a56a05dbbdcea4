"""params.yaml mistakes: exit 2, the key and the file named, no traceback."""

from pathlib import Path

import pytest

from lifecycle import cli
from lifecycle.errors import ConfigError
from lifecycle.gates.contract import load_contract
from lifecycle.settings import load_settings, read_yaml


def run_describe(params, capsys):
    code = cli.main(["describe", "--params", str(params)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_the_repository_params_and_contract_are_valid():
    """About the shipped example, whatever data it names: the repository's params.yaml loads
    and its contract matches the columns it names."""
    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root / "params.yaml")
    assert settings.data.target not in settings.data.features.all
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # the contract's path is relative to the repository
        contract = load_contract(settings)
    assert set(settings.data.features.all) <= set(contract.columns)


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


# --- YAML 1.2 booleans: yes, no, on and off stay text ------------------------------------------


def test_yes_no_on_off_stay_text_and_true_stays_a_boolean(params_file):
    params = params_file()
    text = params.read_text(encoding="utf-8")
    params.write_text(text.replace("positive_label: 1", "positive_label: on"), encoding="utf-8")
    assert load_settings(params).data.positive_label == "on"
    params.write_text(text.replace("positive_label: 1", "positive_label: true"), encoding="utf-8")
    assert load_settings(params).data.positive_label is True  # not 1: a text target can say so


def write_contract(tmp_path, rule: str) -> Path:
    contract = tmp_path / "contract.yaml"
    contract.write_text(f"columns:\n  answer: {rule}\n", encoding="utf-8")
    return contract


def test_contract_categories_yes_and_no_stay_text(tmp_path):
    contract = write_contract(tmp_path, "{type: str, allowed: [no, yes, off]}")
    assert read_yaml(contract)["columns"]["answer"]["allowed"] == ["no", "yes", "off"]


def test_contract_booleans_in_a_text_column_say_to_quote_them(tmp_path, params_file):
    contract = write_contract(tmp_path, "{type: str, allowed: [false, true]}")
    settings = load_settings(params_file({"gates": {"data": {"contract": str(contract)}}}))
    with pytest.raises(ConfigError, match=r"columns\.answer: .*true and false are booleans; quote"):
        load_contract(settings)
