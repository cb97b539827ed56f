"""Typed keyword arguments of the generation endpoints (for editors; any other field can go in
``extra_body``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

from .._request import RequestOptions

MessageParam = Mapping[str, Any] | BaseModel


class SamplingParams(RequestOptions, total=False):
    max_tokens: int | None
    max_completion_tokens: int | None
    temperature: float | None
    top_p: float | None
    presence_penalty: float | None
    frequency_penalty: float | None
    stop: str | list[str] | None
    seed: int | None
    n: int | None
    user: str | None
    stream_options: Mapping[str, Any] | None


class ChatParams(SamplingParams, total=False):
    tools: Iterable[Mapping[str, Any]] | None
    tool_choice: Literal["none", "auto", "required"] | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    response_format: Mapping[str, Any] | None
    logprobs: bool | None
    top_logprobs: int | None
    metadata: Mapping[str, str] | None


class CompletionParams(SamplingParams, total=False):
    echo: bool | None


class EmbeddingParams(RequestOptions, total=False):
    encoding_format: Literal["float", "base64"] | None
    dimensions: int | None
    user: str | None
