"""A string field given a number or boolean takes the text it was written as, inside
``scalar_texts`` (workflow files and their input, as the Go engine reads every scalar as text);
everywhere else validation converts as the plugin SDK does."""

from __future__ import annotations

import pytest

from arcaflow_steps import SchemaValidationError
from arcaflow_steps._schema._scalar_texts import canonical_path, scalar_texts
from arcaflow_steps.schema import IntSchema, ListSchema, MapSchema, StringSchema, validate
from arcaflow_steps.workflow._yaml import load_data_yaml_texts


def test_without_texts_a_string_field_converts_as_the_sdk() -> None:
    assert "True" == validate(StringSchema(), True)
    assert "16" == validate(StringSchema(), 16)
    with pytest.raises(SchemaValidationError, match=r"expected a string, got 1\.5"):
        validate(StringSchema(), 1.5)


@pytest.mark.parametrize(
    ("value", "text"), [(True, "true"), (False, "FALSE"), (16, "0x10"), (1.5, "1.50")]
)
def test_a_string_field_takes_the_text_at_its_path(value: object, text: str) -> None:
    with scalar_texts({"$.input.name": text}):
        assert {"name": text} == validate(
            MapSchema(keys=StringSchema(), values=StringSchema()), {"name": value}, path="$.input"
        )


def test_texts_apply_only_to_strings_given_numbers_or_booleans_at_their_path() -> None:
    texts = {"$": "0x10", "$[0]": "TRUE", "$[1]": "1e3"}
    with scalar_texts(texts):
        assert 16 == validate(IntSchema(), 16)  # a typed field keeps the value
        assert "text" == validate(StringSchema(), "text")  # a string is a string
        assert ["TRUE", "1e3"] == validate(ListSchema(items=StringSchema()), [True, 1000.0])
        with pytest.raises(SchemaValidationError, match=r"expected a string, got 2.5 @ \$\[2\]"):
            validate(ListSchema(items=StringSchema()), [True, 1000.0, 2.5])
    assert ["True"] == validate(ListSchema(items=StringSchema()), [True])  # block ended


def test_a_maps_keys_are_not_the_values_written_at_their_path() -> None:
    """An input file's ``m: {1: 5}`` has the int key 1 at ``m[1]``, where the value's text is
    recorded: the key converts as before."""
    schema = MapSchema(keys=StringSchema(), values=StringSchema())
    with scalar_texts({"$.m[1]": "05"}):
        assert {"1": "05"} == validate(schema, {1: 5}, path="$.m")


def test_the_checks_of_the_field_apply_to_the_text() -> None:
    with (
        scalar_texts({"$": "1.50"}),
        pytest.raises(SchemaValidationError, match="expected at most 3 characters, got 4"),
    ):
        validate(StringSchema(max=3), 1.5)


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("$.input.name", "$.input.name"),
        ("steps.a.input.env['HOME']", "steps.a.input.env.HOME"),
        ("$['a.b'][0]", "$.a.b[0]"),
        ("$[\"it's\"]['\\'q\\'']", "$.it's.'q'"),
        ('$["x"].y[2]', "$.x.y[2]"),
    ],
)
def test_map_keys_are_written_as_fields(path: str, canonical: str) -> None:
    assert canonical == canonical_path(path)


def test_the_yaml_loader_records_the_text_of_numbers_and_booleans() -> None:
    data, texts = load_data_yaml_texts(
        "a: 0x10\nb: [true, '1.5', 1.50, ~]\nc: text\n7: key\nd: {e: -.inf}\n", "input.yaml"
    )
    assert {"a": 16, "b": [True, "1.5", 1.5, None], "c": "text", 7: "key"} == {
        key: value for key, value in data.items() if key != "d"
    }
    assert {"a": "0x10", "b[0]": "true", "b[2]": "1.50", "d.e": "-.inf"} == texts
