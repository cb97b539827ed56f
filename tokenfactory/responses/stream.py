"""A chat completion's stream as the Responses API's typed events.

``response.created`` and ``response.in_progress`` open it; each output item is announced
(``response.output_item.added``), filled (``response.output_text.delta`` after
``response.content_part.added``; ``response.function_call_arguments.delta``) and closed
(``….done`` events, then ``response.output_item.done``); ``response.completed`` (or
``response.incomplete``) carries the finished response. Every event has its
``sequence_number``.

Logprobs (when ``include`` asked for them, chat's chunks carry them): each text delta carries
those that came since the previous one, and the message's text collects them all. Those of a
chunk that carries a tool call are the call's tokens, not the text's, and are left out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import BaseModel

from ..wire.chat import ChatCompletionChunk
from ..wire.responses import (
    ContentPartEvent,
    FunctionCallArgumentsDeltaEvent,
    FunctionCallArgumentsDoneEvent,
    FunctionToolCall,
    OutputItem,
    OutputItemEvent,
    OutputMessage,
    OutputText,
    OutputTextDeltaEvent,
    OutputTextDoneEvent,
    ResponseLifecycleEvent,
    ResponseLogprob,
    ResponseObject,
    ResponseStreamEvent,
    ResponseUsage,
)
from .translate import finished, new_id, usage


def chat_chunk(raw: object) -> ChatCompletionChunk:
    """One chunk of the chat stream: a model, a pre-encoded ``data:`` event, or a remote
    model's event as it came (an object with its JSON in ``data``)."""
    if isinstance(raw, ChatCompletionChunk):
        return raw
    if isinstance(raw, bytes):
        return ChatCompletionChunk.model_validate_json(raw.removeprefix(b"data: "))
    if isinstance(raw, BaseModel):
        return ChatCompletionChunk.model_validate(raw.model_dump())
    return ChatCompletionChunk.model_validate(getattr(raw, "data", raw))


class ResponseEvents:
    """Translates one chat stream; ``done`` is called with the finished response before
    the last event is sent (it stores it)."""

    def __init__(self, response: ResponseObject, done: Callable[[ResponseObject], None]) -> None:
        self.response = response
        self.done = done
        self.sequence = 0
        self.output: list[OutputItem] = []
        self.message: OutputMessage | None = None  # the message being written, if any
        self.calls: dict[int, FunctionToolCall] = {}  # open tool calls by their chat index
        self.logprobs = False  # the chat stream carries logprobs
        self.pending: list[ResponseLogprob] = []  # the text's logprobs not yet sent

    def _event(self, cls: type[ResponseStreamEvent], kind: str, **fields: Any) -> Any:
        event = cls(type=kind, sequence_number=self.sequence, **fields)
        self.sequence += 1
        return event

    def _lifecycle(self, kind: str, response: ResponseObject) -> ResponseLifecycleEvent:
        event: ResponseLifecycleEvent = self._event(ResponseLifecycleEvent, kind, response=response)
        return event

    def _added(self, item: OutputItem) -> ResponseStreamEvent:
        self.output.append(item)
        snapshot = item.model_copy(deep=True)
        return self._event(
            OutputItemEvent,
            "response.output_item.added",
            output_index=len(self.output) - 1,
            item=snapshot,
        )

    def _open_message(self) -> list[ResponseStreamEvent]:
        self.message = OutputMessage(id=new_id("msg"), status="in_progress")
        added = self._added(self.message)
        self.message.content.append(OutputText(text="", logprobs=[] if self.logprobs else None))
        part = self._event(
            ContentPartEvent,
            "response.content_part.added",
            item_id=self.message.id,
            output_index=len(self.output) - 1,
            part=OutputText(text=""),
        )
        return [added, part]

    def _close_message(self) -> list[ResponseStreamEvent]:
        message = self.message
        if message is None:
            return []
        self.message = None
        index = self.output.index(message)
        part = message.content[0]
        if part.logprobs is not None:
            part.logprobs += self.pending
        self.pending = []
        message.status = "completed"
        return [
            self._event(
                OutputTextDoneEvent,
                "response.output_text.done",
                item_id=message.id,
                output_index=index,
                text=part.text,
                logprobs=part.logprobs or [],
            ),
            self._event(
                ContentPartEvent,
                "response.content_part.done",
                item_id=message.id,
                output_index=index,
                part=part.model_copy(deep=True),
            ),
            self._event(
                OutputItemEvent,
                "response.output_item.done",
                output_index=index,
                item=message.model_copy(deep=True),
            ),
        ]

    def _close_call(self, call: FunctionToolCall) -> list[ResponseStreamEvent]:
        index = self.output.index(call)
        call.status = "completed"
        return [
            self._event(
                FunctionCallArgumentsDoneEvent,
                "response.function_call_arguments.done",
                item_id=call.id,
                output_index=index,
                name=call.name,
                arguments=call.arguments,
            ),
            self._event(
                OutputItemEvent,
                "response.output_item.done",
                output_index=index,
                item=call.model_copy(deep=True),
            ),
        ]

    async def translate(self, chunks: AsyncIterator[object]) -> AsyncIterator[ResponseStreamEvent]:
        """The events of ``chunks``; closing them closes ``chunks`` (the generation ends)."""
        try:
            async for event in self._events(chunks):
                yield event
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()

    async def _events(self, chunks: AsyncIterator[object]) -> AsyncIterator[ResponseStreamEvent]:
        yield self._lifecycle("response.created", self.response)
        yield self._lifecycle("response.in_progress", self.response)
        finish: str | None = None
        spent: ResponseUsage | None = None
        async for raw in chunks:
            chunk = chat_chunk(raw)
            if chunk.usage is not None:
                spent = usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                delta = choice.delta
                if choice.logprobs is not None:
                    self.logprobs = True
                    if not delta.tool_calls:
                        self.pending += choice.logprobs.content or []
                if delta.content:
                    for event in self._text(delta.content):
                        yield event
                for tool in delta.tool_calls or []:
                    for event in self._tool(tool.index, tool.id, tool.function):
                        yield event
                finish = choice.finish_reason or finish
        for event in self._close_message():
            yield event
        for call in self.calls.values():
            for event in self._close_call(call):
                yield event
        if not self.output:  # nothing was generated: an empty message, as a complete answer has
            for event in self._open_message() + self._close_message():
                yield event
        response = finished(self.response, self.output, finish, spent)
        self.done(response)
        yield self._lifecycle(f"response.{response.status}", response)

    def _text(self, text: str) -> list[ResponseStreamEvent]:
        events = self._open_message() if self.message is None else []
        assert self.message is not None
        part = self.message.content[0]
        part.text += text
        logprobs, self.pending = self.pending, []
        if self.logprobs:
            part.logprobs = (part.logprobs or []) + logprobs
        events.append(
            self._event(
                OutputTextDeltaEvent,
                "response.output_text.delta",
                item_id=self.message.id,
                output_index=self.output.index(self.message),
                delta=text,
                logprobs=logprobs,
            )
        )
        return events

    def _tool(self, index: int, call_id: str | None, function: Any) -> list[ResponseStreamEvent]:
        events: list[ResponseStreamEvent] = []
        call = self.calls.get(index)
        if call is None:
            events += self._close_message()
            call = FunctionToolCall(
                id=new_id("fc"),
                call_id=call_id or new_id("call"),
                name=(function.name if function else None) or "",
                arguments="",
                status="in_progress",
            )
            self.calls[index] = call
            events.append(self._added(call))
        arguments = function.arguments if function else None
        if arguments:
            call.arguments += arguments
            events.append(
                self._event(
                    FunctionCallArgumentsDeltaEvent,
                    "response.function_call_arguments.delta",
                    item_id=call.id,
                    output_index=self.output.index(call),
                    delta=arguments,
                )
            )
        return events
