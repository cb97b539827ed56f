"""Grammars that make a model's tool calls well formed.

- ``required`` / a named tool: the whole output is one call object, a JSON Schema
  (``anyOf`` over ``{"name": <const>, "arguments": <that tool's parameters>}``), so its
  arguments always validate.
- ``auto``: the output is either plain text (not starting with ``<``, ``{`` or ``[``) or
  ``<tool_call>`` blocks, each holding such an object: an EBNF grammar built from the schema
  by xgrammar (the grammar dialect both engines compile).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..engine.protocol import StructuredSpec
from .tool_parse import CLOSE_TAG, OPEN_TAG

MAX_PARALLEL_CALLS = 4  # at least 2
EMPTY_PARAMETERS = {"type": "object", "properties": {}}


def call_schema(tools: list[tuple[str, dict[str, Any] | None]]) -> dict[str, Any]:
    """The JSON Schema of one call to any of ``tools`` (``(name, parameters)`` pairs)."""
    cases = [
        {
            "type": "object",
            "properties": {
                "name": {"const": name},
                "arguments": parameters or EMPTY_PARAMETERS,
            },
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for name, parameters in tools
    ]
    return cases[0] if len(cases) == 1 else {"anyOf": cases}


def forced_call_spec(tools: list[tuple[str, dict[str, Any] | None]]) -> StructuredSpec:
    return StructuredSpec(json_schema=call_schema(tools))


def auto_call_spec(
    tools: list[tuple[str, dict[str, Any] | None]],
    parallel: bool,
    alternative: StructuredSpec | None = None,
) -> StructuredSpec | None:
    """Text or tool calls; ``alternative`` (a response_format) replaces free text.

    None when xgrammar is not installed here (the output is then only parsed, not constrained).
    """
    try:
        ebnf = _auto_ebnf(json.dumps(call_schema(tools)), parallel, _key(alternative))
    except ImportError:
        return None
    return StructuredSpec(ebnf=ebnf)


def _key(spec: StructuredSpec | None) -> tuple[str, str] | None:
    if spec is None:
        return None
    if spec.json_object:
        return ("json_schema", '{"type": "object"}')
    # xgrammar builds the grammar from the schema's text (and the cache needs a hashable key)
    return ("json_schema", json.dumps(spec.json_schema)) if spec.json_schema else None


@lru_cache(maxsize=256)
def _auto_ebnf(schema: str, parallel: bool, alternative: tuple[str, str] | None) -> str:
    import xgrammar as xgr

    call = xgr.Grammar.concat(
        xgr.Grammar.from_ebnf(f"root ::= {json.dumps(OPEN_TAG + chr(10))}"),
        xgr.Grammar.from_json_schema(schema, any_whitespace=False),
        xgr.Grammar.from_ebnf(f"root ::= {json.dumps(chr(10) + CLOSE_TAG)}"),
    )
    calls = call
    if parallel:
        newline = xgr.Grammar.from_ebnf(r'root ::= "\n"')
        empty = xgr.Grammar.from_ebnf('root ::= ""')
        tail = xgr.Grammar.union(empty, xgr.Grammar.concat(newline, call))  # a 2nd call or none
        for _ in range(MAX_PARALLEL_CALLS - 2):
            tail = xgr.Grammar.union(empty, xgr.Grammar.concat(newline, call, tail))
        calls = xgr.Grammar.concat(call, tail)
    if alternative is None:
        other = xgr.Grammar.from_ebnf(r"root ::= [^<{[\0 \t\r\n] [^\0]*")
    else:
        other = xgr.Grammar.from_json_schema(
            alternative[1], any_whitespace=False, strict_mode=alternative[1] != '{"type": "object"}'
        )
    return str(xgr.Grammar.union(calls, other))
