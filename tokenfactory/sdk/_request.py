"""One API call described as data: what the resources build and the clients send."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, TypedDict, TypeVar, cast

import httpx
from pydantic import BaseModel

T = TypeVar("T")
Timeout = float | httpx.Timeout | None
FileContent = bytes | str | os.PathLike[str] | IO[bytes]
# a file's content, or (filename, content) / (filename, content, content type)
FileSpec = FileContent | tuple[str, FileContent] | tuple[str, FileContent, str | None]


class RequestOptions(TypedDict, total=False):
    """Per-call options every resource method accepts."""

    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None
    timeout: Timeout
    max_retries: int


OPTION_NAMES = frozenset(RequestOptions.__annotations__)


@dataclass
class APIRequest(Generic[T]):
    """``cast_to`` is what the answer is parsed into: a pydantic model, ``dict``, ``str``,
    ``bytes`` or ``httpx.Response``; for a streamed call, the model of each chunk."""

    method: str
    path: str
    cast_to: type[T]
    body: dict[str, Any] | None = None  # JSON, or form fields when ``files`` is set
    params: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str | None]] | None = None
    stream: bool = False
    options: RequestOptions = field(default_factory=lambda: RequestOptions())


def split_options(values: Mapping[str, Any]) -> tuple[dict[str, Any], RequestOptions]:
    """Separate per-call options from body fields; drop fields left as None."""
    body = {k: v for k, v in values.items() if k not in OPTION_NAMES and v is not None}
    options = {k: v for k, v in values.items() if k in OPTION_NAMES}
    return body, cast(RequestOptions, options)  # only RequestOptions' keys are kept


def jsonable(value: Any) -> Any:
    """Pydantic models (e.g. a previous response's message) become plain JSON values."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True, by_alias=True)
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def read_files(files: Mapping[str, FileSpec]) -> dict[str, tuple[str, bytes, str | None]]:
    """Read uploads into memory once, so a retried request sends the same bytes."""
    return {name: _read_file(spec) for name, spec in files.items()}


def _read_file(spec: FileSpec) -> tuple[str, bytes, str | None]:
    if isinstance(spec, tuple):
        filename, content = spec[0], spec[1]
        content_type = spec[2] if len(spec) == 3 else None
        _, content_bytes, _ = _read_file(content)
        return str(filename), content_bytes, content_type
    if isinstance(spec, bytes):
        return "upload", spec, None
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        return path.name, path.read_bytes(), None
    data: bytes | str = spec.read()
    if isinstance(data, str):
        data = data.encode()
    name = getattr(spec, "name", None)
    return (Path(name).name if isinstance(name, str) else "upload"), data, None


def merged_body(request: APIRequest[Any]) -> dict[str, Any] | None:
    extra = request.options.get("extra_body")
    if request.body is None and not extra:
        return None
    body: dict[str, Any] = jsonable({**(request.body or {}), **(extra or {})})
    return body
