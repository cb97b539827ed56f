"""Between the Responses API and chat completions: a Responses request becomes the chat
request the chat service runs, and the chat answer becomes the response's output items.

The conversation is kept as *items* (``wire.responses.StoredInputItem``: messages, function
calls, function call outputs), the shape ``GET /v1/responses/{id}/input_items`` lists and
``previous_response_id`` chains; :func:`chat_messages` turns items into chat messages.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import TypeAdapter

from ..core.validation import parse_body
from ..errors import InvalidRequestError
from ..wire.chat import ChatCompletion, ChatCompletionRequest
from ..wire.common import ChoiceLogprobs
from ..wire.responses import (
    FormatJSONObject,
    FormatJSONSchema,
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionToolCall,
    IncompleteDetails,
    InputItemText,
    OutputItem,
    OutputMessage,
    OutputText,
    ResponseCreateRequest,
    ResponseLogprob,
    ResponseObject,
    ResponseUsage,
    StoredFunctionCallOutput,
    StoredInputItem,
    StoredMessage,
)

ITEMS: TypeAdapter[list[StoredInputItem]] = TypeAdapter(list[StoredInputItem])


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def input_items(req: ResponseCreateRequest) -> list[StoredInputItem]:
    """The request's ``input`` as stored items, each with an id."""
    if isinstance(req.input, str):
        return [_message("user", req.input)]
    items: list[StoredInputItem] = []
    for item in req.input:
        if isinstance(item, FunctionCallItem):
            items.append(
                FunctionToolCall(
                    id=item.id or new_id("fc"),
                    call_id=item.call_id,
                    name=item.name,
                    arguments=item.arguments,
                )
            )
        elif isinstance(item, FunctionCallOutputItem):
            items.append(
                StoredFunctionCallOutput(
                    id=item.id or new_id("fco"), call_id=item.call_id, output=item.text()
                )
            )
        else:
            items.append(_message(item.role, item.text(), item.id))
    return items


def _message(role: Any, text: str, item_id: str | None = None) -> StoredMessage:
    kind = "output_text" if role == "assistant" else "input_text"
    return StoredMessage(
        id=item_id or new_id("msg"), role=role, content=[InputItemText(type=kind, text=text)]
    )


def output_as_items(output: list[OutputItem]) -> list[StoredInputItem]:
    """A response's output, as the items the next response in its chain starts from."""
    items: list[StoredInputItem] = []
    for item in output:
        if isinstance(item, OutputMessage):
            items.append(_message("assistant", "".join(p.text for p in item.content), item.id))
        else:
            items.append(item)
    return items


def chat_messages(instructions: str | None, items: list[StoredInputItem]) -> list[dict[str, Any]]:
    """Chat messages for a conversation: the instructions as the system message, a function
    call as (part of) an assistant message's ``tool_calls``, its output as a ``tool`` message.
    A function call output must answer a function call of the conversation."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    calls: set[str] = set()
    for item in items:
        if isinstance(item, StoredMessage):
            text = "".join(part.text for part in item.content)
            messages.append({"role": item.role, "content": text})
        elif isinstance(item, FunctionToolCall):
            calls.add(item.call_id)
            call = {
                "id": item.call_id,
                "type": "function",
                "function": {"name": item.name, "arguments": item.arguments},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            if item.call_id not in calls:
                raise InvalidRequestError(
                    f"No function call found for the function_call_output with call_id "
                    f"'{item.call_id}'",
                    param="input",
                    code="invalid_parameter",
                )
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": item.output})
    return messages


def chat_request(
    req: ResponseCreateRequest, conversation: list[StoredInputItem]
) -> ChatCompletionRequest:
    """The chat request that answers ``req`` over ``conversation`` (the chained items, then
    this request's)."""
    body: dict[str, Any] = {
        "model": req.model,
        "messages": chat_messages(req.instructions, conversation),
        "stream": req.stream,
    }
    if req.stream:
        body["stream_options"] = {"include_usage": True}
    if req.max_output_tokens is not None:
        body["max_completion_tokens"] = req.max_output_tokens
    alternatives = req.logprob_alternatives()
    if alternatives is not None:
        body["logprobs"] = True
        body["top_logprobs"] = alternatives
    for name in ("temperature", "top_p", "parallel_tool_calls", "user"):
        value = getattr(req, name)
        if value is not None:
            body[name] = value
    if req.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": tool.model_dump(exclude={"type"}, exclude_none=True),
            }
            for tool in req.tools
        ]
    if req.tool_choice is not None:
        choice = req.tool_choice
        named = {"type": "function", "function": {"name": getattr(choice, "name", "")}}
        body["tool_choice"] = choice if isinstance(choice, str) else named
    fmt = req.text.format if req.text is not None else None
    if isinstance(fmt, FormatJSONSchema):
        schema: dict[str, Any] = {"name": fmt.name, "schema": fmt.schema_}
        if fmt.description is not None:
            schema["description"] = fmt.description
        if fmt.strict is not None:
            schema["strict"] = fmt.strict
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif isinstance(fmt, FormatJSONObject):
        body["response_format"] = {"type": "json_object"}
    return parse_body(ChatCompletionRequest, body)


def draft(req: ResponseCreateRequest) -> ResponseObject:
    """The response as it stands before anything is generated (``in_progress``)."""
    tool_choice: Any = req.tool_choice or "auto"
    if not isinstance(tool_choice, str):
        tool_choice = tool_choice.model_dump()
    return ResponseObject(
        id=new_id("resp"),
        created_at=int(time.time()),
        status="in_progress",
        instructions=req.instructions,
        max_output_tokens=req.max_output_tokens,
        model=req.model,
        parallel_tool_calls=req.parallel_tool_calls is not False,
        previous_response_id=req.previous_response_id,
        temperature=req.temperature,
        top_p=req.top_p,
        top_logprobs=req.top_logprobs,
        text=(req.text.model_dump(by_alias=True, exclude_none=True) if req.text else None)
        or {"format": {"type": "text"}},
        tool_choice=tool_choice,
        tools=[t.model_dump(exclude_none=True) for t in req.tools or []],
        store=req.store,
        metadata=req.metadata or {},
        user=req.user,
        service_tier=req.service_tier,
    )


def usage(prompt_tokens: int, completion_tokens: int) -> ResponseUsage:
    return ResponseUsage(
        input_tokens=prompt_tokens,
        output_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )


def finished(
    response: ResponseObject,
    output: list[OutputItem],
    finish_reason: str | None,
    spent: ResponseUsage | None,
) -> ResponseObject:
    """The response once its generation ended: ``incomplete`` when it hit its token limit."""
    cut = finish_reason == "length"
    state: Any = "incomplete" if cut else "completed"
    for item in output:
        item.status = state
    return response.model_copy(
        update={
            "status": state,
            "completed_at": int(time.time()) if not cut else None,
            "incomplete_details": IncompleteDetails(reason="max_output_tokens") if cut else None,
            "output": output,
            "usage": spent,
        }
    )


def logprobs_of(
    chat: ChoiceLogprobs | None, text: str, calls: bool
) -> list[ResponseLogprob] | None:
    """Chat's logprobs as an output text's: the same entries (None where chat gave none); with
    function ``calls`` after the text, only the leading entries that wrote ``text``."""
    if chat is None:
        return None
    entries = list(chat.content or [])
    if not calls:
        return entries
    written = ""
    for n, entry in enumerate(entries):
        if len(written.strip()) >= len(text):
            return entries[:n]
        written += entry.token
    return entries


def answer_of(response: ResponseObject, chat: ChatCompletion | dict[str, Any]) -> ResponseObject:
    """The finished response for a chat completion (a remote model's comes as its JSON); its
    text carries the chat's logprobs, which chat gives only when ``include`` asked for them."""
    if isinstance(chat, dict):
        chat = ChatCompletion.model_validate(chat)
    choice = chat.choices[0]
    message = choice.message
    output: list[OutputItem] = []
    if message.content or not message.tool_calls:
        content = message.content or ""
        logprobs = logprobs_of(choice.logprobs, content, bool(message.tool_calls))
        text = OutputText(text=content, logprobs=logprobs)
        output.append(OutputMessage(id=new_id("msg"), content=[text]))
    for call in message.tool_calls or []:
        output.append(
            FunctionToolCall(
                id=new_id("fc"),
                call_id=call.id,
                name=call.function.name,
                arguments=call.function.arguments,
            )
        )
    spent = None
    if chat.usage is not None:
        spent = usage(chat.usage.prompt_tokens, chat.usage.completion_tokens)
    return finished(response, output, choice.finish_reason, spent)
