"""Messages (with tools, earlier tool calls and their results) → the chat template's input.

A template that supports tools itself (it mentions ``tools``) gets them, and the calls and
results, in the Hugging Face format it expects. Otherwise (SmolLM2's template, for one) the
tools are described in the system prompt with the ``<tool_call>`` format the parser and the
grammars use, earlier calls are written back in that format, and results come back as
``<tool_response>`` turns.
"""

from __future__ import annotations

import json
from typing import Any

from ..wire.chat import ChatCompletionRequest, ChatMessage
from .tool_parse import CLOSE_TAG, OPEN_TAG
from .tools import ToolPlan

RESPONSE_OPEN, RESPONSE_CLOSE = "<tool_response>", "</tool_response>"
CALL_TEMPLATE = '{"name": "<tool name>", "arguments": {<arguments as JSON>}}'


def has_native_tools(tokenizer: Any) -> bool:
    template = getattr(tokenizer, "chat_template", None)
    return isinstance(template, str) and "tools" in template


def template_input(
    req: ChatCompletionRequest, plan: ToolPlan, native: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(messages, extra apply_chat_template kwargs)`` for this request."""
    if native:
        kwargs = {"tools": plan.tools} if plan.parses_calls else {}
        return [_native_message(m, _call_names(req)) for m in req.messages], kwargs
    messages = _plain_messages(req)
    if plan.parses_calls:
        _add_system_text(messages, tools_prompt(plan))
        messages[1:1] = demonstration(plan)
    return messages, {}


def tools_prompt(plan: ToolPlan) -> str:
    """The system-prompt description of the tools, in the format SmolLM2 was trained on."""
    listing = "\n".join(json.dumps(t["function"], ensure_ascii=False) for t in plan.tools)
    if plan.choice == "named":
        rule = f"You must call the function {plan.forced!r} now."
    elif plan.choice == "required":
        rule = "You must call one of the functions now."
    else:
        rule = "If no function fits the query, answer the user directly instead."
    return (
        "You are a function calling AI model. You are provided with function signatures within"
        " <tools></tools> XML tags. You may call one or more functions to assist with the user"
        " query. Don't make assumptions about what values to plug into functions.\n"
        f"<tools>\n{listing}\n</tools>\n"
        "For each function call, return a json object with function name and arguments within"
        f" {OPEN_TAG}{CLOSE_TAG} XML tags:\n{OPEN_TAG}\n{CALL_TEMPLATE}\n{CLOSE_TAG}\n{rule}"
    )


def demonstration(plan: ToolPlan) -> list[dict[str, Any]]:
    """One example exchange calling a real tool with placeholder arguments.

    A small model rarely chooses to call a tool from the description alone; one example turn
    of the format makes it call when the query fits (and still answer directly when not).
    """
    tool = next(t["function"] for t in plan.tools if plan.forced in (None, t["function"]["name"]))
    ask = (tool.get("description") or f"use {tool['name']}").rstrip(".")
    arguments = json.dumps(example_arguments(tool.get("parameters") or {}))
    return [
        {"role": "user", "content": f"I need this: {ask[:1].lower()}{ask[1:]}"},
        {"role": "assistant", "content": render_call(tool["name"], arguments)},
    ]


def example_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Placeholder values for the required properties of a parameters schema."""
    props = schema.get("properties") or {}
    return {name: _example(props.get(name) or {}) for name in schema.get("required") or []}


def _example(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return "..."
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list) and kind:  # a union of types: the first one
        kind = kind[0]
    if kind == "object":
        return example_arguments(schema)
    if not isinstance(kind, str):
        return "..."
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "null": None}.get(
        kind, "..."
    )


def render_call(name: str, arguments: str) -> str:
    try:
        args: Any = json.loads(arguments)
    except json.JSONDecodeError:
        args = arguments
    body = json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
    return f"{OPEN_TAG}\n{body}\n{CLOSE_TAG}"


def _plain_messages(req: ChatCompletionRequest) -> list[dict[str, Any]]:
    names = _call_names(req)
    out: list[dict[str, Any]] = []
    for m in req.messages:
        if m.role == "tool":
            name = names.get(m.tool_call_id or "", "tool")
            text = f"{RESPONSE_OPEN}\n{name}: {m.text()}\n{RESPONSE_CLOSE}"
            if out and out[-1].get("_tool_results"):
                out[-1]["content"] += "\n" + text
            else:
                out.append({"role": "user", "content": text, "_tool_results": True})
            continue
        role = "system" if m.role == "developer" else m.role
        content = m.text()
        if m.role == "assistant" and m.tool_calls:
            calls = "\n".join(
                render_call(c.function.name, c.function.arguments) for c in m.tool_calls
            )
            content = f"{content}\n{calls}" if content else calls
        out.append({"role": role, "content": content})
    for message in out:
        message.pop("_tool_results", None)
    return out


def _add_system_text(messages: list[dict[str, Any]], text: str) -> None:
    if messages and messages[0]["role"] == "system":
        first = messages[0]["content"]
        messages[0]["content"] = f"{first}\n\n{text}" if first else text
    else:
        messages.insert(0, {"role": "system", "content": text})


def _call_names(req: ChatCompletionRequest) -> dict[str, str]:
    return {
        c.id: c.function.name
        for m in req.messages
        if m.role == "assistant" and m.tool_calls
        for c in m.tool_calls
    }


def _native_message(m: ChatMessage, names: dict[str, str]) -> dict[str, Any]:
    role = "system" if m.role == "developer" else m.role
    message: dict[str, Any] = {"role": role, "content": m.text()}
    if m.role == "assistant" and m.tool_calls:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.function.name, "arguments": _loads(c.function.arguments)},
            }
            for c in m.tool_calls
        ]
    if m.role == "tool":
        message["tool_call_id"] = m.tool_call_id
        message["name"] = names.get(m.tool_call_id or "", "")
    return message


def _loads(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except json.JSONDecodeError:
        return arguments
