"""The request schema: types and nulls from the model's signature, bounds from the contract."""

import json

import pytest
from pydantic import ValidationError

from lifecycle.errors import ConfigError
from lifecycle.serving.payloads import bad_requests
from lifecycle.serving.spec import (
    MAX_RECORDS,
    FeatureSpec,
    batch_model,
    example_record,
    feature_specs,
    model_frame,
    request_model,
)

FEATURES = (
    FeatureSpec(name="age", kind="integer", minimum=18, maximum=100),
    FeatureSpec(name="income", kind="number", nullable=True, minimum=0, maximum=1e6),
    FeatureSpec(name="housing", kind="category", categories=("rent", "own")),
)
VALID = {"age": 30, "income": 1000.5, "housing": "rent"}


@pytest.fixture(scope="module")
def model():
    return request_model(FEATURES)


def test_a_valid_record_passes_and_nullable_fields_take_null(model):
    assert model.model_validate_json(json.dumps(VALID)).age == 30
    assert model.model_validate_json(json.dumps({**VALID, "income": None})).income is None


@pytest.mark.parametrize(
    "body",
    [
        {**VALID, "age": "30"},  # no coercion from text
        {**VALID, "age": 30.5},
        {**VALID, "age": True},
        {**VALID, "age": None},  # not nullable
        {**VALID, "age": 17},
        {**VALID, "income": 1e7},
        {**VALID, "housing": "castle"},
        {**VALID, "extra": 1},
        {k: v for k, v in VALID.items() if k != "housing"},
    ],
)
def test_bad_values_are_rejected(model, body):
    with pytest.raises(ValidationError):
        model.model_validate_json(json.dumps(body))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected(model, literal):
    body = json.dumps({**VALID, "income": "X"}).replace('"X"', literal)
    with pytest.raises(ValidationError):
        model.model_validate_json(body)


def test_the_example_record_is_valid(model):
    model.model_validate(example_record(FEATURES))


def write_mlmodel(folder, inputs):
    folder.mkdir(parents=True, exist_ok=True)
    signature = {"inputs": json.dumps(inputs), "outputs": "[]"}
    (folder / "MLmodel").write_text(json.dumps({"signature": signature}), encoding="utf-8")
    return folder


def test_feature_specs_join_the_signature_and_the_contract(settings, tmp_path):
    numeric, categorical = settings.data.features.numeric, settings.data.features.categorical
    inputs = [{"name": c, "type": "double", "required": c != "income"} for c in numeric]
    inputs += [{"name": c, "type": "string", "required": True} for c in categorical]
    specs = {f.name: f for f in feature_specs(settings, write_mlmodel(tmp_path / "m", inputs))}
    assert list(specs) == settings.data.features.all
    assert specs["income"].nullable  # optional in the signature
    assert specs["age"].kind == "integer"  # int64 in the contract
    assert specs["age"].minimum is not None and specs["age"].maximum is not None
    assert specs["housing"].categories  # allowed values from the contract


def test_a_model_without_signature_is_a_config_error(settings, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="without an input signature"):
        feature_specs(settings, tmp_path / "m")


BATCH = batch_model(FEATURES)


def test_a_batch_is_validated_into_plain_records():
    body = json.dumps({"records": [VALID, {**VALID, "income": None}]})
    assert BATCH.model_validate_json(body).records == [VALID, {**VALID, "income": None}]


def test_an_integral_number_is_an_integer_as_in_json_schema(model):
    assert model.model_validate_json(json.dumps({**VALID, "age": 30.0})).age == 30
    assert BATCH.model_validate_json(json.dumps({"records": [{**VALID, "age": 30.0}]}))


@pytest.mark.parametrize(
    "body",
    [
        {"records": [VALID], "unexpected": 1},  # no key but records
        {"records": []},
        {"records": [VALID] * (MAX_RECORDS + 1)},
        {"records": VALID},
    ],
)
def test_bad_batch_bodies_are_rejected(body):
    with pytest.raises(ValidationError):
        BATCH.model_validate_json(json.dumps(body))


def test_every_bad_record_of_a_batch_is_named():
    body = json.dumps({"records": [VALID, {**VALID, "age": "x"}, VALID, {**VALID, "extra": 1}]})
    with pytest.raises(ValidationError) as caught:
        BATCH.model_validate_json(body)
    assert {error["loc"][:2] for error in caught.value.errors()} == {("records", 1), ("records", 3)}


def test_a_batch_record_and_a_single_record_follow_the_same_rules(model):
    """Both endpoints take the same records: same schema, same verdict on each bad record."""
    assert BATCH.model_json_schema()["$defs"]["Applicant"] == model.model_json_schema()
    for case in bad_requests(model.model_json_schema(), VALID):
        if case.path != "/predict" or case.content_type != "application/json":
            continue
        single = _accepts(model, case.body)
        batch = _accepts(BATCH, b'{"records": [' + case.body + b"]}")
        assert single is batch is False, case.name


def _accepts(validator, body):
    try:
        validator.model_validate_json(body)
    except ValidationError:
        return False
    return True


def test_the_model_frame_has_float_numbers_and_nan_for_null():
    frame = model_frame(FEATURES, [VALID, {**VALID, "income": None}])
    assert list(frame.columns) == [f.name for f in FEATURES]
    assert str(frame["age"].dtype) == "float64" and frame["income"].isna().tolist() == [False, True]
