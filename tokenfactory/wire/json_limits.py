"""What any JSON a client sends must be, before a model reads it: nested at most
:data:`MAX_JSON_DEPTH` levels, strings that are Unicode text (no lone surrogate such as an
escaped ``"\\ud800"``, which cannot be encoded or tokenized), and finite numbers (no ``NaN``,
``Infinity`` or ``1e400``). Request bodies, batch lines, training data and the JSON an
assistant's ``tool_calls[].arguments`` carry are checked here, once; each problem is a 400
naming where it is.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..errors import InvalidRequestError

#: Levels of objects and arrays a JSON document may nest (a body, a batch line, a training
#: line, a tool call's arguments). A JSON Schema nests about two levels per schema level.
MAX_JSON_DEPTH = 64
#: Prompts one ``/v1/completions`` or inputs one ``/v1/embeddings`` request may carry.
MAX_INPUTS_PER_REQUEST = 2048

_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOWN_PARTS = 5  # how much of a too-deep path the error spells out


def field_path(parts: tuple[str | int, ...]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def is_unicode_text(text: str) -> bool:
    return text.isascii() or _SURROGATE.search(text) is None


def json_problem(value: Any) -> tuple[str, str, str] | None:
    """The first ``(path, message, code)`` that makes ``value`` unacceptable, or None."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if not is_unicode_text(node):
                return (
                    field_path(path),
                    "contains a lone surrogate (not Unicode text)",
                    "invalid_unicode",
                )
        elif isinstance(node, float):
            if not math.isfinite(node):
                return field_path(path), f"{node} is not a finite number", "invalid_number"
        elif isinstance(node, (dict, list)):
            if len(path) >= MAX_JSON_DEPTH:
                shown = field_path(path[:_SHOWN_PARTS]) + (
                    "..." if len(path) > _SHOWN_PARTS else ""
                )
                return shown, f"nests deeper than {MAX_JSON_DEPTH} levels", "nesting_too_deep"
            if isinstance(node, dict):
                for key, item in node.items():
                    if isinstance(key, str) and not is_unicode_text(key):
                        where = field_path(path) or "body"
                        return where, "has a key with a lone surrogate", "invalid_unicode"
                    stack.append((item, (*path, key)))
            else:
                stack.extend((item, (*path, i)) for i, item in enumerate(node))
    return None


def check_json(value: Any, where: str = "body") -> None:
    """400 naming the field when ``value`` (parsed JSON) breaks a rule above."""
    problem = json_problem(value)
    if problem is not None:
        path, message, code = problem
        param = path or where
        raise InvalidRequestError(f"Invalid value for '{param}': {message}", param=param, code=code)


def loads(text: str | bytes, where: str = "body") -> Any:
    """``json.loads`` with the rules above; a ``json.JSONDecodeError`` for text that is not
    JSON, an :class:`InvalidRequestError` for JSON that breaks a rule."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidRequestError(
            f"Invalid value for '{where}': nests deeper than {MAX_JSON_DEPTH} levels",
            param=where,
            code="nesting_too_deep",
        ) from None
    check_json(value, where)
    return value


def json_text_problem(text: str) -> str | None:
    """Why a string that holds JSON (a tool call's arguments) is unacceptable; None when it is
    fine or is not JSON at all (plain text is passed on as text)."""
    try:
        loads(text)
    except json.JSONDecodeError:
        return None
    except InvalidRequestError as exc:
        return exc.message.split(": ", 1)[-1]
    return None


def split_jsonl(text: str) -> list[str]:
    """The lines of a JSONL text: split on ``\\n`` only (``\\r\\n`` too). A raw U+2028 or U+0085
    inside a JSON string is valid JSON, so Unicode line breaks (``str.splitlines``) do not end
    a line."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
