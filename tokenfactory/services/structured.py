"""``response_format`` → :class:`StructuredSpec`, after checking the schema can be enforced.

Every engine enforces structured outputs with a grammar compiled from the JSON Schema (xgrammar
on CPU, vLLM's structured outputs on GPU). A grammar can only enforce some keywords; a schema
using one it would silently ignore could produce output that does not validate, so such a
schema is refused up front with a 400 that names the keyword and where it is.
"""

from __future__ import annotations

from typing import Any

from ..engine.protocol import StructuredSpec
from ..errors import InvalidRequestError, UnsupportedSchemaError
from ..wire.chat import ResponseFormat

#: Keywords whose meaning the grammar enforces (or that only hold sub-schemas).
ENFORCED_KEYWORDS = frozenset(
    {
        "type", "enum", "const",
        "properties", "required", "additionalProperties", "patternProperties",
        "propertyNames", "minProperties", "maxProperties", "unevaluatedProperties",
        "items", "prefixItems", "minItems", "maxItems", "unevaluatedItems",
        "minLength", "maxLength", "pattern", "format",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions",
    }
)  # fmt: skip

#: Keywords that do not constrain the value (documentation and identifiers).
ANNOTATION_KEYWORDS = frozenset(
    {
        "title", "description", "default", "examples", "example", "$comment", "$schema", "$id",
        "$anchor", "readOnly", "writeOnly", "deprecated", "contentMediaType", "contentEncoding",
        "nullable",
    }
)  # fmt: skip

#: ``format`` values the grammar enforces.
ENFORCED_FORMATS = frozenset(
    {
        "date", "time", "date-time", "duration", "email", "hostname", "ipv4", "ipv6",
        "uri", "uri-reference", "uri-template", "uuid", "json-pointer", "relative-json-pointer",
    }
)  # fmt: skip

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = (
    "items",
    "additionalProperties",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
)


def check_enforceable(schema: Any, where: str = "schema", param: str = "response_format") -> None:
    """400 if ``schema`` is not a valid JSON Schema or uses a keyword no grammar enforces."""
    if not isinstance(schema, dict):
        raise InvalidRequestError(f"{where} must be a JSON object (a JSON Schema)", param=param)
    _check_valid(schema, where, param)
    _walk(schema, "#", where, param)


def _check_valid(schema: dict, where: str, param: str) -> None:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise InvalidRequestError(
            f"{where} is not a valid JSON Schema: {exc.message} (at {path})", param=param
        ) from None


def _walk(node: Any, pointer: str, where: str, param: str) -> None:
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        raise InvalidRequestError(
            f"{where} has a sub-schema at {pointer} that is not an object", param=param
        )
    for key, value in node.items():
        here = f"{pointer}/{key}"
        if key in ANNOTATION_KEYWORDS or key.startswith("x-"):
            continue
        if key not in ENFORCED_KEYWORDS:
            raise _unsupported(key, pointer, where, param)
        if key == "format" and value not in ENFORCED_FORMATS:
            raise _unsupported(f"format: {value}", pointer, where, param)
        if key == "multipleOf" and not (node.get("type") == "integer" and _whole(value)):
            raise _unsupported("multipleOf (only whole numbers on integers)", pointer, where, param)
        if key == "allOf" and len(value) > 1:
            raise _unsupported("allOf (with more than one sub-schema)", pointer, where, param)
        bound = key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        if bound and node.get("type") == "integer" and not _whole(value):
            raise _unsupported(f"{key} {value} on an integer", pointer, where, param)
        if key in _SCHEMA_MAPS:
            for name, sub in value.items():
                _walk(sub, f"{here}/{name}", where, param)
        elif key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
            for i, sub in enumerate(value):
                _walk(sub, f"{here}/{i}", where, param)
        elif key in _SCHEMA_VALUES:
            _walk(value, here, where, param)
        elif key == "$ref" and not value.startswith("#"):
            raise _unsupported(
                f"$ref to {value!r} (only local #/... references)", pointer, where, param
            )


def _whole(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _unsupported(keyword: str, pointer: str, where: str, param: str) -> UnsupportedSchemaError:
    return UnsupportedSchemaError(
        f"Unsupported JSON Schema keyword '{keyword}' at {pointer} in {where}: structured"
        " outputs cannot enforce it; remove it or express the constraint with supported keywords",
        param=param,
    )


def response_format_spec(fmt: ResponseFormat | None) -> StructuredSpec | None:
    """The decoding constraint a ``response_format`` asks for (None for plain text)."""
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return StructuredSpec(json_object=True)
    schema = fmt.json_schema.schema_ if fmt.json_schema else None
    if schema is None:
        raise InvalidRequestError(
            "response_format.json_schema.schema is required", param="response_format"
        )
    check_enforceable(schema, "response_format.json_schema.schema")
    return StructuredSpec(json_schema=schema)
