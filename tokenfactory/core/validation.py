"""One way to check a request body: its wire model, with pydantic's errors worded once.

The HTTP gateway (a body FastAPI rejected) and the batch validator (a line's body) both
report a bad request through :func:`invalid_request`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InvalidRequestError
from ..wire.json_limits import check_json

M = TypeVar("M", bound=BaseModel)


def _field_path(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out


def invalid_request(errors: Sequence[Any]) -> InvalidRequestError:
    """The first of pydantic's errors as a 400 naming the field (and how many more)."""
    first: Mapping[str, Any] = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return InvalidRequestError(
            "The request body is not valid JSON: " + str(first.get("ctx", {}).get("error", "")),
            code="invalid_json",
        )
    loc = tuple(first.get("loc", ()))
    # a union's member name ("str", "list[str]", "function-after[...]") is not part of the field
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in {"str", "int"})))
    field = _field_path(loc) or "body"
    msg = first.get("msg", "invalid value")
    if first.get("type") == "missing" and field == "body":
        return InvalidRequestError(
            "The request has no body: send a JSON object (Content-Type: application/json)",
            code="missing_body",
        )
    if first.get("type") == "missing":
        message = f"Missing required parameter: '{field}'"
    else:
        message = f"Invalid value for '{field}': {msg}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return InvalidRequestError(message, param=field, code="invalid_parameter")


def parse_body(model: type[M], body: Any) -> M:
    """``body`` as ``model``, or the 400 an HTTP request with that body would get."""
    if isinstance(body, model):
        return body
    check_json(body)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from None
