"""Any label: the target's two values, what the model's 0/1 classes stand for, and where the
model keeps them (its MLmodel metadata), read back without params.yaml."""

import numpy as np
import pandas as pd
import pytest
import yaml

from lifecycle.errors import DataError
from lifecycle.serving.spec import ServingSpec, answer_models, model_labels
from lifecycle.training.model import Labels, read_labels, target_labels

# the target's values as stored, the positive label as params.yaml gives it, the labels expected
KINDS = {
    "text": (["no", "yes", "no"], "yes", Labels("no", "yes")),
    "boolean": ([False, True, False], True, Labels(False, True)),
    "integers 1/2": ([1, 2, 1], 2, Labels(1, 2)),
    "integers, the positive one 1": ([1, 2, 1], 1, Labels(2, 1)),
    "whole floats": ([0.0, 1.0], 1, Labels(0, 1)),
    "a pandas string column": (pd.array(["n", "y"], dtype="string"), "y", Labels("n", "y")),
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_target_s_two_values_are_found_as_python_values(kind):
    values, positive, expected = KINDS[kind]

    labels = target_labels(pd.Series(values, name="target"), positive)

    assert labels == expected
    assert type(labels.negative) is type(expected.negative)  # not numpy scalars, not 1 for True
    assert type(labels.positive) is type(expected.positive)


def test_the_positive_label_is_the_data_s_own_value():
    """positive_label true on a 0/1 column matches 1 (as training's == does): 1 is what the
    answers say, not true."""
    labels = target_labels(pd.Series([0, 1, 1], name="target"), True)
    assert labels == Labels(0, 1) and type(labels.positive) is int


@pytest.mark.parametrize("values", [["yes", "yes"], ["a", "b", "yes"]])
def test_a_target_that_is_not_binary_is_a_data_error(values):
    with pytest.raises(DataError, match=r"target 'target' holds .*two values"):
        target_labels(pd.Series(values, name="target"), "yes")


@pytest.mark.parametrize("kind", KINDS)
def test_each_class_maps_to_its_label_whatever_the_class_order(kind):
    labels = KINDS[kind][2]
    assert labels.of(np.array([0, 1])).tolist() == [labels.negative, labels.positive]
    assert labels.of(np.array([1, 0])).tolist() == [labels.positive, labels.negative]
    predicted = labels.of(np.array([0, 1]))[np.array([1, 1, 0])].tolist()
    assert predicted == [labels.positive, labels.positive, labels.negative]
    assert all(type(v) is type(labels.positive) for v in predicted)  # JSON true, not 1


@pytest.mark.parametrize("kind", KINDS)
def test_labels_survive_the_mlmodel_file_and_the_bento_s_arguments(kind, tmp_path):
    labels = KINDS[kind][2]
    text = yaml.safe_dump({"metadata": labels.metadata()})  # as MLflow writes MLmodel
    (tmp_path / "MLmodel").write_text(text, encoding="utf-8")

    read = model_labels(tmp_path)

    assert read == labels and type(read.positive) is type(labels.positive)
    spec = ServingSpec(model_name="m", model_version="1", bento_model="m:1", sha256="0",
                       labels=read, features=())  # fmt: skip
    again = ServingSpec.model_validate(spec.model_dump(mode="json"))  # as BentoML restores it
    assert again.labels == labels and type(again.labels.positive) is type(labels.positive)


def test_a_model_logged_without_labels_predicts_0_and_1(tmp_path):
    (tmp_path / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    assert model_labels(tmp_path) == Labels(0, 1) == read_labels(None)


@pytest.mark.parametrize(
    ("labels", "kind"),
    [(Labels("no", "yes"), "string"), (Labels(False, True), "boolean"), (Labels(1, 2), "integer")],
)
def test_the_answer_s_schema_names_the_two_labels_and_their_type(labels, kind):
    single, batch = answer_models(labels)

    prediction = single.model_json_schema()["properties"]["prediction"]
    assert prediction["enum"] == [labels.negative, labels.positive]
    assert prediction["type"] == kind
    assert repr(labels.positive) in prediction["description"]
    score = batch.model_json_schema()["$defs"]["Score"]
    assert score["properties"]["prediction"]["enum"] == [labels.negative, labels.positive]
    answer = {"prediction": labels.positive, "probability": 0.7, "request_id": "r",
              "model_name": "m", "model_version": "1"}  # fmt: skip
    assert single.model_validate(answer).prediction == labels.positive
    with pytest.raises(ValueError, match="prediction"):
        single.model_validate({**answer, "prediction": "maybe"})
