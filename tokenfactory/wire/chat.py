"""Chat completions: request, response and stream chunk."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .common import ChoiceLogprobs, RequestModel, SamplingFields, Usage, WireModel
from .json_limits import json_text_problem

Role = Literal["system", "developer", "user", "assistant", "tool"]


class FunctionCall(WireModel):
    name: str
    arguments: str


class ToolCall(WireModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(RequestModel):
    role: Role
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    # after role and tool_calls: its validator reads them. Only an assistant message that calls
    # tools may leave it out.
    content: str | list[dict[str, Any]] | None = Field(default=None, validate_default=True)

    @field_validator("content")
    @classmethod
    def _text_parts_only(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and not (
            info.data.get("role") == "assistant" and info.data.get("tool_calls")
        ):
            raise PydanticCustomError("missing", "Field required")
        if isinstance(value, list):
            for part in value:
                if part.get("type") != "text" or not isinstance(part.get("text"), str):
                    raise ValueError("only text content parts are supported")
        return value

    @field_validator("tool_calls")
    @classmethod
    def _arguments_within_limits(cls, value: list[ToolCall] | None) -> list[ToolCall] | None:
        for i, call in enumerate(value or []):
            problem = json_text_problem(call.function.arguments)
            if problem:
                raise ValueError(f"tool_calls[{i}].function.arguments {problem}")
        return value

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part["text"] for part in self.content)


class FunctionDefinition(RequestModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: StrictBool | None = None


class Tool(RequestModel):
    type: Literal["function"]
    function: FunctionDefinition


class NamedToolChoiceFunction(RequestModel):
    name: str


class NamedToolChoice(RequestModel):
    type: Literal["function"]
    function: NamedToolChoiceFunction


class JSONSchemaFormat(RequestModel):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: StrictBool | None = None


class ResponseFormat(RequestModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format.json_schema is required when type is json_schema")
        return self


UNSUPPORTED_CHAT = {
    "audio": "audio output is not supported by the models here",
    "prediction": "predicted outputs are not supported",
    "web_search_options": "web search is not supported",
    "verbosity": "verbosity is not supported by the models here",
    "functions": "the deprecated 'functions' is not supported: send 'tools'",
    "function_call": "the deprecated 'function_call' is not supported: send 'tool_choice'",
}


class ChatCompletionRequest(SamplingFields):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: StrictBool | None = None
    response_format: ResponseFormat | None = None
    logprobs: StrictBool | None = None
    top_logprobs: StrictInt | None = Field(default=None, ge=0, le=20)
    #: OpenAI's tags on a request (up to 16, values up to 512 characters): accepted, not used
    metadata: (
        dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]] | None
    ) = Field(default=None, max_length=16)
    store: StrictBool | None = None  # only false: chat completions are not kept here
    modalities: list[str] | None = None  # only ["text"]
    prompt_cache_key: str | None = None  # a cache-routing hint: the engines cache prefixes anyway
    safety_identifier: str | None = None  # recorded as the end user when ``user`` is not given
    reasoning_effort: str | None = None  # only "none": the models here do not reason

    # OpenAI's fields this gateway cannot honour (``UNSUPPORTED_CHAT``): a 400 naming the field
    audio: Any = None
    prediction: Any = None
    web_search_options: Any = None
    verbosity: Any = None
    functions: Any = None
    function_call: Any = None

    @field_validator(*UNSUPPORTED_CHAT, "store", "modalities", "reasoning_effort")
    @classmethod
    def _refuse_unsupported(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        if name == "store" and value:
            raise ValueError("chat completions are not stored here (use /v1/responses)")
        if name == "modalities" and value not in (None, ["text"]):
            raise ValueError('only text output is supported: leave it out or send ["text"]')
        if name == "reasoning_effort" and value not in (None, "none"):
            raise ValueError('the models here do not reason; leave it out or send "none"')
        if name in UNSUPPORTED_CHAT and value is not None:
            raise ValueError(UNSUPPORTED_CHAT[name])
        return value

    def logprob_alternatives(self) -> int | None:
        """What the engine is asked for: None (no logprobs) or how many alternatives."""
        return (self.top_logprobs or 0) if self.logprobs else None


class ResponseMessage(WireModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[ToolCall] | None = None


class ChatChoice(WireModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletion(WireModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None


class ToolCallDeltaFunction(WireModel):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(WireModel):
    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: ToolCallDeltaFunction | None = None


class ChoiceDelta(WireModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(WireModel):
    index: int = 0
    delta: ChoiceDelta
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletionChunk(WireModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    service_tier: str | None = None
