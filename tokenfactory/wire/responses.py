"""The Responses API (``/v1/responses``): request, response object, input items, stream events.

A request's ``input`` is a string or a list of items: messages (``role`` + text content),
``function_call`` items the model produced before and ``function_call_output`` items with the
caller's results. What the gateway cannot do (images, files, built-in tools, background runs)
is a 400 naming the field, never silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    ValidationInfo,
    field_validator,
)

from ..config import DEFAULT_MAX_TOKENS
from .common import RequestModel, TokenLogprobEntry, WireModel
from .json_limits import json_text_problem

# -- input ------------------------------------------------------------------------------------


class InputText(RequestModel):
    """A text content part: ``input_text`` in a request, ``output_text`` when an assistant
    message is passed back (``text`` is accepted too)."""

    type: Literal["input_text", "output_text", "text"]
    text: str


TEXT_PART_TYPES = ("input_text", "output_text", "text")


def _text_parts(value: Any) -> Any:
    if isinstance(value, list):
        for i, part in enumerate(value):
            kind = part.get("type") if isinstance(part, dict) else getattr(part, "type", None)
            if kind not in TEXT_PART_TYPES:
                raise ValueError(
                    f"content[{i}] is of type {kind!r}; only text parts "
                    "(input_text, output_text) are supported"
                )
    return value


class MessageItem(RequestModel):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[InputText]
    id: str | None = None
    status: str | None = None

    _only_text = field_validator("content", mode="before")(_text_parts)

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class FunctionCallItem(RequestModel):
    """A tool call the model made (as a response's output carried it)."""

    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str
    id: str | None = None
    status: str | None = None

    @field_validator("arguments")
    @classmethod
    def _arguments_within_limits(cls, value: str) -> str:
        problem = json_text_problem(value)
        if problem:
            raise ValueError(f"arguments {problem}")
        return value


class FunctionCallOutputItem(RequestModel):
    """The caller's result of a tool call, matched to it by ``call_id``."""

    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: str | list[InputText]
    id: str | None = None
    status: str | None = None

    _only_text = field_validator("output", mode="before")(_text_parts)

    def text(self) -> str:
        if isinstance(self.output, str):
            return self.output
        return "".join(part.text for part in self.output)


def _item_kind(value: Any) -> str:
    kind = value.get("type", "message") if isinstance(value, dict) else getattr(value, "type", "")
    return f"item[{kind}]"


# Tags in brackets: an error names the field (``input[0].content``), not the union member.
InputItem = Annotated[
    Annotated[MessageItem, Tag("item[message]")]
    | Annotated[FunctionCallItem, Tag("item[function_call]")]
    | Annotated[FunctionCallOutputItem, Tag("item[function_call_output]")],
    Discriminator(
        _item_kind,
        custom_error_type="invalid_item",
        custom_error_message=(
            "an input item is a message, a function_call or a function_call_output"
        ),
    ),
]

# -- tools and text format --------------------------------------------------------------------


class FunctionTool(RequestModel):
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: StrictBool | None = None


class ToolChoiceFunction(RequestModel):
    type: Literal["function"]
    name: str = Field(min_length=1)


ToolChoice = Literal["none", "auto", "required"] | ToolChoiceFunction


class FormatText(RequestModel):
    type: Literal["text"]


class FormatJSONObject(RequestModel):
    type: Literal["json_object"]


class FormatJSONSchema(RequestModel):
    type: Literal["json_schema"]
    name: str = Field(min_length=1, max_length=64)
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: StrictBool | None = None


TextFormat = Annotated[
    FormatText | FormatJSONObject | FormatJSONSchema, Field(discriminator="type")
]


class TextConfig(RequestModel):
    format: TextFormat = Field(default_factory=lambda: FormatText(type="text"))


# -- the request ------------------------------------------------------------------------------

#: Fields OpenAI accepts that this gateway cannot honour: refused when set, never ignored.
UNSUPPORTED = {
    "background": "background runs are not supported; send the request without it",
    "conversation": "conversations are not supported; chain with previous_response_id",
    "prompt": "stored prompt templates are not supported",
    "max_tool_calls": "built-in tools are not supported, so max_tool_calls is not either",
    "truncation": "only 'disabled' is supported: a conversation longer than the model's "
    "context is a 400, never cut silently",
}
#: The value of an ``UNSUPPORTED`` field that asks for nothing the gateway lacks.
HARMLESS: dict[str, object] = {"truncation": "disabled"}

#: The one ``include`` value the gateway can honour: each output text's token logprobs.
INCLUDE_LOGPROBS = "message.output_text.logprobs"


#: A string, or a list of items (an error in an item names the item, not "not a string").
Input = Annotated[
    Annotated[str, Tag("str")] | Annotated[list[InputItem], Tag("list[item]")],
    Discriminator(lambda value: "str" if isinstance(value, str) else "list[item]"),
]


class ResponseCreateRequest(RequestModel):
    model: str = Field(min_length=1)
    input: Input
    instructions: str | None = None
    max_output_tokens: StrictInt | None = Field(default=None, ge=1, le=4096)
    temperature: StrictFloat | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: StrictBool | None = None
    text: TextConfig | None = None
    stream: StrictBool = False
    previous_response_id: str | None = None
    store: StrictBool = True
    metadata: dict[str, Annotated[str, Field(max_length=512)]] | None = Field(
        default=None, max_length=16
    )
    user: str | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    #: ``["message.output_text.logprobs"]`` asks for logprobs; any other value is a 400
    include: list[str] | None = None
    #: alternatives per token (0-20) when ``include`` asks for logprobs; alone it asks nothing
    top_logprobs: StrictInt | None = Field(default=None, ge=0, le=20)

    # OpenAI's fields this gateway cannot honour (``UNSUPPORTED``): a 400 naming the field
    background: Any = None
    conversation: Any = None
    prompt: Any = None
    max_tool_calls: Any = None
    truncation: Any = None
    reasoning: Any = None

    @field_validator(*UNSUPPORTED, "reasoning")
    @classmethod
    def _refuse_unsupported(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        if name == "reasoning":
            effort = value.get("effort") if isinstance(value, dict) else value
            if effort not in (None, "none"):
                raise ValueError("this model does not reason; leave reasoning out")
        elif value not in (None, False, []) and value != HARMLESS.get(name):
            raise ValueError(UNSUPPORTED[name])
        return value

    @field_validator("include")
    @classmethod
    def _only_logprobs(cls, value: list[str] | None) -> list[str] | None:
        for i, name in enumerate(value or []):
            if name != INCLUDE_LOGPROBS:
                raise ValueError(
                    f"include[{i}] is {name!r}; only {INCLUDE_LOGPROBS!r} is supported"
                )
        return value

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: str | list[Any]) -> str | list[Any]:
        if isinstance(value, list) and not value:
            raise ValueError("input must hold at least one item")
        return value

    @property
    def output_limit(self) -> int:
        return self.max_output_tokens or DEFAULT_MAX_TOKENS

    def logprob_alternatives(self) -> int | None:
        """None (no logprobs: ``include`` did not ask) or how many alternatives per token."""
        return (self.top_logprobs or 0) if INCLUDE_LOGPROBS in (self.include or []) else None


# -- the response object ----------------------------------------------------------------------


#: One generated token's logprob and its alternatives (``token``, ``logprob``, ``bytes``,
#: ``top_logprobs``): the entry chat completions' ``logprobs.content`` lists.
ResponseLogprob = TokenLogprobEntry


class OutputText(WireModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any] = Field(default_factory=list)
    #: one entry per generated token, when ``include`` asked for them (left out otherwise)
    logprobs: list[ResponseLogprob] | None = Field(default=None, exclude_if=lambda v: v is None)


class OutputMessage(WireModel):
    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    status: Literal["in_progress", "completed", "incomplete"] = "completed"
    content: list[OutputText] = Field(default_factory=list)


class FunctionToolCall(WireModel):
    id: str
    type: Literal["function_call"] = "function_call"
    call_id: str
    name: str
    arguments: str
    status: Literal["in_progress", "completed", "incomplete"] = "completed"


OutputItem = Annotated[OutputMessage | FunctionToolCall, Field(discriminator="type")]


class InputTokensDetails(WireModel):
    cached_tokens: int = 0
    cache_write_tokens: int = 0  # no prompt cache is written here; openai's type requires it


class OutputTokensDetails(WireModel):
    reasoning_tokens: int = 0


class ResponseUsage(WireModel):
    input_tokens: int = 0
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int = 0
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int = 0


class IncompleteDetails(WireModel):
    reason: Literal["max_output_tokens", "content_filter"]


class ResponseError(WireModel):
    code: str
    message: str


class ResponseObject(WireModel):
    """A model response, as ``POST /v1/responses`` answers and ``GET`` returns it."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    completed_at: int | None = None
    status: Literal["completed", "incomplete", "in_progress", "failed"]
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[OutputItem] = Field(default_factory=list)
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: Any = "auto"
    tools: list[dict[str, Any]] = Field(default_factory=list)
    truncation: Literal["disabled"] = "disabled"
    store: bool = True
    metadata: dict[str, str] = Field(default_factory=dict)
    usage: ResponseUsage | None = None
    user: str | None = None
    service_tier: str | None = None

    @property
    def output_text(self) -> str:
        """The text of every output message, joined (as OpenAI's client offers it)."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, OutputMessage)
            for part in item.content
        )


class ResponseDeleted(WireModel):
    id: str
    object: Literal["response"] = "response"
    deleted: bool = True


class InputItemText(WireModel):
    type: Literal["input_text", "output_text"]
    text: str


class StoredMessage(WireModel):
    id: str
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    status: Literal["completed"] = "completed"
    content: list[InputItemText]


class StoredFunctionCallOutput(WireModel):
    id: str
    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str
    status: Literal["completed"] = "completed"


StoredInputItem = Annotated[
    StoredMessage | FunctionToolCall | StoredFunctionCallOutput, Field(discriminator="type")
]


class InputItemList(WireModel):
    object: Literal["list"] = "list"
    data: list[StoredInputItem]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


# -- stream events ----------------------------------------------------------------------------


class ResponseStreamEvent(WireModel):
    """One typed server-sent event: its ``type`` is also the SSE ``event:`` name."""

    type: str
    sequence_number: int

    @classmethod
    def from_event(cls, data: Any) -> ResponseStreamEvent:
        """One event's JSON as the class its ``type`` names (this one for any other type)."""
        kind = data.get("type") if isinstance(data, dict) else None
        return EVENT_CLASSES.get(str(kind), cls).model_validate(data)


class ResponseLifecycleEvent(ResponseStreamEvent):
    """``response.created``, ``response.in_progress``, ``response.completed``,
    ``response.incomplete``: the response as it stands."""

    response: ResponseObject


class OutputItemEvent(ResponseStreamEvent):
    """``response.output_item.added`` / ``.done``."""

    output_index: int
    item: OutputItem


class ContentPartEvent(ResponseStreamEvent):
    """``response.content_part.added`` / ``.done``."""

    item_id: str
    output_index: int
    content_index: int = 0
    part: OutputText


class OutputTextDeltaEvent(ResponseStreamEvent):
    item_id: str
    output_index: int
    content_index: int = 0
    delta: str
    #: the logprobs of this delta's tokens (empty unless ``include`` asked for them)
    logprobs: list[ResponseLogprob] = Field(default_factory=list)


class OutputTextDoneEvent(ResponseStreamEvent):
    item_id: str
    output_index: int
    content_index: int = 0
    text: str
    logprobs: list[ResponseLogprob] = Field(default_factory=list)


class FunctionCallArgumentsDeltaEvent(ResponseStreamEvent):
    item_id: str
    output_index: int
    delta: str


class FunctionCallArgumentsDoneEvent(ResponseStreamEvent):
    item_id: str
    output_index: int
    name: str
    arguments: str


#: Each event type's class (``ResponseStreamEvent.from_event``).
EVENT_CLASSES: dict[str, type[ResponseStreamEvent]] = {
    **dict.fromkeys(
        (
            "response.created",
            "response.in_progress",
            "response.completed",
            "response.incomplete",
        ),
        ResponseLifecycleEvent,
    ),
    "response.output_item.added": OutputItemEvent,
    "response.output_item.done": OutputItemEvent,
    "response.content_part.added": ContentPartEvent,
    "response.content_part.done": ContentPartEvent,
    "response.output_text.delta": OutputTextDeltaEvent,
    "response.output_text.done": OutputTextDoneEvent,
    "response.function_call_arguments.delta": FunctionCallArgumentsDeltaEvent,
    "response.function_call_arguments.done": FunctionCallArgumentsDoneEvent,
}
