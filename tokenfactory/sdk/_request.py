"""One API call described as data: what the resources build and the clients send."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypedDict, cast

import httpx
from pydantic import BaseModel

Timeout = float | httpx.Timeout | None
FileContent = bytes | str | os.PathLike[str] | IO[bytes]
FileSpec = FileContent | tuple


class RequestOptions(TypedDict, total=False):
    """Per-call options every resource method accepts."""

    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None
    timeout: Timeout
    max_retries: int


OPTION_NAMES = frozenset(RequestOptions.__annotations__)


@dataclass
class APIRequest:
    method: str
    path: str
    body: dict[str, Any] | None = None  # JSON, or form fields when ``files`` is set
    params: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str | None]] | None = None
    cast_to: Any = dict  # a pydantic model, dict, str, bytes or httpx.Response
    chunk_type: type[BaseModel] | None = None  # set: the call returns a Stream of these
    options: RequestOptions = field(default_factory=lambda: RequestOptions())

    @property
    def stream(self) -> bool:
        return self.chunk_type is not None


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
    content_type = None
    if isinstance(spec, tuple):
        filename, content, *rest = spec
        content_type = rest[0] if rest else None
        _, data, _ = _read_file(content)
        return str(filename), data, content_type
    if isinstance(spec, bytes):
        return "upload", spec, content_type
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        return path.name, path.read_bytes(), content_type
    data = spec.read()
    if isinstance(data, str):
        data = data.encode()
    name = getattr(spec, "name", None)
    return (Path(name).name if isinstance(name, str) else "upload"), data, content_type


def merged_body(request: APIRequest) -> dict[str, Any] | None:
    extra = request.options.get("extra_body")
    if request.body is None and not extra:
        return None
    return jsonable({**(request.body or {}), **(extra or {})})
