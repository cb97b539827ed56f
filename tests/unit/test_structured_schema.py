"""response_format → StructuredSpec, and the check that a schema can be enforced."""

from __future__ import annotations

import pytest

from tokenfactory.errors import InvalidRequestError, UnsupportedSchemaError
from tokenfactory.services.structured import check_enforceable, response_format_spec
from tokenfactory.wire.chat import ResponseFormat

PRODUCT = {
    "type": "object",
    "properties": {
        "product_name": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "unit_price": {"type": "number"},
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3},
        "ship": {"$ref": "#/$defs/address"},
    },
    "required": ["product_name", "quantity"],
    "$defs": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def fmt(body: dict) -> ResponseFormat:
    return ResponseFormat.model_validate(body)


def test_text_and_missing_format_are_unconstrained():
    assert response_format_spec(None) is None
    assert response_format_spec(fmt({"type": "text"})) is None


def test_json_object():
    spec = response_format_spec(fmt({"type": "json_object"}))
    assert spec.json_object and spec.json_schema is None


def test_json_schema_is_passed_as_the_schema_document():
    body = {"type": "json_schema", "json_schema": {"name": "p", "strict": True, "schema": PRODUCT}}
    spec = response_format_spec(fmt(body))
    assert spec.json_schema == PRODUCT


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"type": "array", "uniqueItems": True}, "uniqueItems"),
        ({"type": "array", "contains": {"type": "integer"}}, "contains"),
        ({"not": {"type": "string"}}, "not"),
        ({"type": "integer", "if": {"minimum": 3}, "then": {"maximum": 5}}, "if"),
        (
            {"type": "object", "properties": {"x": {"type": "number", "multipleOf": 0.5}}},
            "multipleOf",
        ),
        ({"type": "string", "format": "idn-email"}, "format: idn-email"),
        ({"allOf": [{"type": "integer"}, {"minimum": 1}]}, "allOf"),
        ({"type": "object", "dependentRequired": {"a": ["b"]}}, "dependentRequired"),
        ({"$ref": "https://example.com/s.json"}, "$ref"),
    ],
)
def test_keywords_that_cannot_be_enforced_are_refused_by_name(schema, keyword):
    with pytest.raises(UnsupportedSchemaError) as info:
        check_enforceable(schema)
    assert f"'{keyword}" in info.value.message
    assert info.value.status_code == 400


def test_nested_keyword_location_is_reported():
    schema = {"type": "object", "properties": {"not": {"type": "array", "uniqueItems": True}}}
    with pytest.raises(UnsupportedSchemaError, match="#/properties/not"):
        check_enforceable(schema)


def test_property_names_that_look_like_keywords_are_fine():
    check_enforceable({"type": "object", "properties": {"not": {"type": "string"}}})


def test_invalid_schema_is_a_400_naming_the_problem():
    with pytest.raises(InvalidRequestError, match="not a valid JSON Schema"):
        check_enforceable({"type": "objekt"})
    with pytest.raises(InvalidRequestError, match="must be a JSON object"):
        check_enforceable(["type"])


def test_annotations_are_accepted():
    check_enforceable(
        {"title": "T", "description": "d", "type": "integer", "default": 3, "examples": [1]}
    )
