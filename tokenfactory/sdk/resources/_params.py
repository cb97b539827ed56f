"""Typed keyword arguments of the generation endpoints, one per wire request model.

Every field of ``tokenfactory.wire``'s ``ChatCompletionRequest``, ``CompletionRequest`` and
``EmbeddingRequest`` is a key here or a named argument of ``create`` (and nothing else is):
``tests/sdk/test_params_match_wire.py`` checks both directions, so a field added to the wire is
a field the SDK accepts. Fields the wire does not know go in ``extra_body``. Values may be plain
dicts or the wire's own models (``tokenfactory.wire.ResponseFormat``, ``Tool``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

from .._request import RequestOptions

MessageParam = Mapping[str, Any] | BaseModel  # {"role": ..., "content": ...} or a wire model
JSONObjectParam = Mapping[str, Any] | BaseModel


class SamplingParams(RequestOptions, total=False):
    """``tokenfactory.wire.common.SamplingFields`` (less ``stream``, an argument of its own)."""

    max_tokens: int | None
    max_completion_tokens: int | None
    temperature: float | None
    top_p: float | None
    presence_penalty: float | None
    frequency_penalty: float | None
    stop: str | list[str] | None
    seed: int | None
    n: int | None
    logit_bias: Mapping[str, float] | None
    user: str | None
    stream_options: JSONObjectParam | None
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None
    # vLLM's sampling extensions
    top_k: int | None
    min_p: float | None
    repetition_penalty: float | None
    min_tokens: int | None
    ignore_eos: bool | None


class ChatParams(SamplingParams, total=False):
    """``tokenfactory.wire.ChatCompletionRequest`` (less ``model``, ``messages``, ``stream``)."""

    tools: Iterable[JSONObjectParam] | None
    tool_choice: Literal["none", "auto", "required"] | JSONObjectParam | None
    parallel_tool_calls: bool | None
    response_format: JSONObjectParam | None
    logprobs: bool | None
    top_logprobs: int | None
    metadata: Mapping[str, str] | None
    store: bool | None
    modalities: list[str] | None
    prompt_cache_key: str | None
    safety_identifier: str | None
    reasoning_effort: str | None
    # OpenAI's fields the gateway refuses (a 400 naming the field): here so the SDK reports it
    audio: Any
    prediction: Any
    web_search_options: Any
    verbosity: Any
    functions: Any
    function_call: Any


class CompletionParams(SamplingParams, total=False):
    """``tokenfactory.wire.CompletionRequest`` (less ``model``, ``prompt``, ``stream``)."""

    echo: bool | None
    logprobs: int | None
    suffix: str | None
    best_of: int | None


class EmbeddingParams(RequestOptions, total=False):
    """``tokenfactory.wire.EmbeddingRequest`` (less ``model``, ``input``)."""

    encoding_format: Literal["float", "base64"] | None
    dimensions: int | None
    user: str | None


class ResponseParams(RequestOptions, total=False):
    """``tokenfactory.wire.responses.ResponseCreateRequest`` (less ``model``, ``input``,
    ``stream``; and less the OpenAI fields the gateway refuses, which go in ``extra_body``)."""

    instructions: str | None
    max_output_tokens: int | None
    temperature: float | None
    top_p: float | None
    tools: Iterable[JSONObjectParam] | None
    tool_choice: Literal["none", "auto", "required"] | JSONObjectParam | None
    parallel_tool_calls: bool | None
    text: JSONObjectParam | None
    previous_response_id: str | None
    store: bool | None
    metadata: Mapping[str, str] | None
    user: str | None
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None
    #: ``["message.output_text.logprobs"]``: each output text carries its tokens' logprobs
    include: list[Literal["message.output_text.logprobs"]] | None
    top_logprobs: int | None
