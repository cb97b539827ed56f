"""The Playground's settings: their ranges (the API's own), the check of a value the browser
sends, and the request body they make.

A value out of range never reaches the trait: ``refusal(name, value)`` says why, beside the
field, and the field goes back to the value the kernel kept.
"""

from __future__ import annotations

import math
from typing import Any

#: (min, max) of every numeric setting: the bounds of the API (``wire.common.SamplingFields``)
RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "max_tokens": (1, 4096),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
    "top_logprobs": (0, 20),
    "seed": (0, 2**63 - 1),
}
INTEGERS = {"max_tokens", "top_logprobs", "seed"}
#: settings whose minimum is excluded (top_p 0 would keep no token)
ABOVE_MIN = {"top_p"}
#: logprobs alternatives the completions API allows (the chat API allows ``RANGES["top_logprobs"]``)
COMPLETION_TOP_LOGPROBS = 5
MAX_STOP = 4
MODES = ("chat", "completion")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def range_refusal(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be the setting ``name`` (None when it can)."""
    low, high = RANGES[name]
    integer = name in INTEGERS
    if name == "seed" and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name} must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} must be a number"
    if integer and isinstance(value, float) and not value.is_integer():
        return f"{name} must be a whole number"
    got = f"(got {_number(value)})"
    if name in ABOVE_MIN and not low < value <= high:
        return f"{name} must be above {_number(low)} and at most {_number(high)} {got}"
    if not low <= value <= high:
        return f"{name} must be between {_number(low)} and {_number(high)} {got}"
    return None


def stop_refusal(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        return "stop sequences must be non-empty strings"
    if len(value) > MAX_STOP:
        return f"at most {MAX_STOP} stop sequences"
    return None


def schema_refusal(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "the JSON schema must be a JSON object"
    if value and not isinstance(value.get("type", "object"), (str, list)):
        return "the JSON schema's type must be a string"
    return None


def tools_refusal(value: Any) -> str | None:
    from ..wire.chat import Tool

    if not isinstance(value, list):
        return "tools must be a list of function definitions"
    for i, tool in enumerate(value):
        try:
            Tool.model_validate(tool)
        except Exception as exc:
            first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc), "loc": ()}
            where = ".".join(str(p) for p in first.get("loc", ()))
            return f"tool {i + 1}: {first['msg']}" + (f" ({where})" if where else "")
    return None


def choice_refusal(name: str, value: Any, choices: tuple[str, ...]) -> str | None:
    return None if value in choices else f"{name} must be one of {', '.join(choices)}"


def refusal(name: str, value: Any) -> str | None:
    """Why the browser's ``value`` for the trait ``name`` is refused, or None."""
    if name in RANGES:
        return range_refusal(name, value)
    if name == "stop_sequences":
        return stop_refusal(value)
    if name == "json_schema":
        return schema_refusal(value)
    if name == "tools":
        return tools_refusal(value)
    if name == "mode":
        return choice_refusal(name, value, MODES)
    if name == "response_format":
        return choice_refusal(name, value, RESPONSE_FORMATS)
    return None


def sampling(pg: Any) -> dict:
    """The sampling settings every request carries, and those set away from their default."""
    params: dict[str, Any] = {
        "temperature": pg.temperature,
        "top_p": pg.top_p,
        "max_tokens": pg.max_tokens,
    }
    if pg.presence_penalty:
        params["presence_penalty"] = pg.presence_penalty
    if pg.frequency_penalty:
        params["frequency_penalty"] = pg.frequency_penalty
    if pg.seed is not None:
        params["seed"] = pg.seed
    if pg.stop_sequences:
        params["stop"] = list(pg.stop_sequences)
    return params


def chat_extras(pg: Any) -> dict:
    """Structured output, tools and logprobs of a chat request (only those in use)."""
    extras: dict[str, Any] = {}
    if pg.response_format == "json_object":
        extras["response_format"] = {"type": "json_object"}
    elif pg.response_format == "json_schema":
        extras["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "playground", "schema": pg.json_schema or {"type": "object"}},
        }
    if pg.tools:
        extras["tools"] = list(pg.tools)
    if pg.logprobs:
        extras["logprobs"] = True
        extras["top_logprobs"] = pg.top_logprobs
    return extras


def completion_extras(pg: Any) -> dict:
    if not pg.logprobs:
        return {}
    return {"logprobs": min(pg.top_logprobs, COMPLETION_TOP_LOGPROBS)}
