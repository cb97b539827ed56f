"""Check a batch's JSONL before anything runs; every problem is reported with its line number.

A line is ``{"custom_id", "body"}`` or OpenAI's ``{"custom_id", "method", "url", "body"}``. The
``url`` picks the endpoint (chat completions when absent); the body must pass that endpoint's
own request validation, name a model this gateway serves, and not ask to stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from ..core.endpoints import CHAT, ENDPOINTS
from ..core.validation import parse_body
from ..errors import InvalidRequestError, ModelLoadingError, ServiceError
from ..wire.json_limits import loads, split_jsonl

MAX_REPORTED = 50

# (model id, modality) -> raises a ServiceError when the caller cannot use that model
ModelCheck = Callable[[str, str], object]


@dataclass(frozen=True)
class Limits:
    max_lines: int = 50_000
    max_bytes: int = 100 * 1024 * 1024


@dataclass
class BatchLine:
    line_no: int  # 1-based, as an editor shows it
    custom_id: str
    url: str
    body: dict
    request: BaseModel  # the body parsed into its endpoint's request model


def normalise_endpoint(url: str) -> str:
    path = "/" + url.strip().lstrip("/")
    return path if path.startswith("/v1/") else "/v1" + path


def parse_batch(
    data: bytes,
    check_model: ModelCheck,
    limits: Limits = Limits(),
    endpoint: str | None = None,
) -> list[BatchLine]:
    """The file's lines, or ``InvalidRequestError`` listing every bad line (first 50).

    ``endpoint`` (OpenAI's batches) is the one endpoint every line must use; without it each
    line picks its own ``url``, chat completions by default.
    """
    if len(data) > limits.max_bytes:
        raise InvalidRequestError(
            f"The batch file is {len(data)} bytes; the limit is {limits.max_bytes} bytes",
            param="file",
            code="file_too_large",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"The batch file is not UTF-8 text: {exc}", param="file", code="invalid_file"
        ) from exc
    raw = [(n, line) for n, line in enumerate(split_jsonl(text), start=1) if line.strip()]
    if not raw:
        raise InvalidRequestError(
            "The batch file is empty: expected one JSON request per line",
            param="file",
            code="empty_file",
        )
    if len(raw) > limits.max_lines:
        raise InvalidRequestError(
            f"The batch file has {len(raw)} requests; the limit is {limits.max_lines}",
            param="file",
            code="too_many_requests",
        )
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    models: dict[tuple[str, str], str | None] = {}
    lines: list[BatchLine] = []
    for n, line in raw:
        try:
            parsed = _parse_line(line, endpoint, seen, n)
            model_problem = _model_problem(parsed, check_model, models)
            if model_problem:
                raise ValueError(model_problem)
        except ValueError as exc:
            problems.append((n, str(exc)))
            continue
        seen[parsed.custom_id] = n
        lines.append(parsed)
    if problems:
        raise InvalidRequestError(describe_problems(problems), param="file", code="invalid_batch")
    return lines


def describe_problems(problems: list[tuple[int, str]]) -> str:
    shown = "; ".join(f"line {n}: {why}" for n, why in problems[:MAX_REPORTED])
    more = len(problems) - MAX_REPORTED
    suffix = f"; and {more} more invalid line{'s' if more > 1 else ''}" if more > 0 else ""
    count = len(problems)
    return f"The batch file has {count} invalid line{'s' if count > 1 else ''}: {shown}{suffix}"


def _parse_line(line: str, required: str | None, seen: dict[str, int], n: int) -> BatchLine:
    try:
        obj = loads(line, where="line")
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except InvalidRequestError as exc:
        raise ValueError(exc.message) from None
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object with 'custom_id' and 'body'")
    custom_id = obj.get("custom_id")
    if custom_id is None or custom_id == "":
        raise ValueError("missing 'custom_id'")
    if not isinstance(custom_id, str):
        raise ValueError("'custom_id' must be a string")
    if custom_id in seen:
        raise ValueError(f"duplicate custom_id '{custom_id}' (first on line {seen[custom_id]})")
    method = obj.get("method", "POST")
    if not isinstance(method, str) or method.upper() != "POST":
        raise ValueError(f"'method' must be POST, got {method!r}")
    url = obj.get("url")
    if url is None:
        endpoint = required or CHAT.path
    elif not isinstance(url, str):
        raise ValueError("'url' must be a string")
    else:
        endpoint = normalise_endpoint(url)
    if endpoint not in ENDPOINTS:
        known = ", ".join(ENDPOINTS)
        raise ValueError(f"unknown endpoint '{url}' (supported: {known})")
    if required is not None and endpoint != required:
        raise ValueError(f"url '{url}' does not match the batch's endpoint '{required}'")
    body = obj.get("body")
    if not isinstance(body, dict):
        raise ValueError("missing 'body' (a JSON object with the request)")
    try:
        request = parse_body(ENDPOINTS[endpoint].request, body)
    except InvalidRequestError as exc:
        raise ValueError(exc.message) from None
    if getattr(request, "stream", False):
        raise ValueError("'stream' is not supported in a batch")
    return BatchLine(n, custom_id, endpoint, body, request)


def _model_problem(
    line: BatchLine, check_model: ModelCheck, cache: dict[tuple[str, str], str | None]
) -> str | None:
    key = (str(line.body.get("model")), ENDPOINTS[line.url].modality)
    if key not in cache:
        try:
            check_model(*key)
            cache[key] = None
        except ModelLoadingError:
            cache[key] = None  # exists; it will be loaded by the time the line runs
        except ServiceError as exc:
            cache[key] = exc.message
    return cache[key]
