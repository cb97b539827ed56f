"""Function calling: check ``tools``/``tool_choice``/tool messages, pick the grammar, render.

:func:`plan_tools` turns a request into a :class:`ToolPlan`: which tools the model sees, the
decoding constraint that makes its calls well formed, and the parser that reads them back.
Rendering (tools in the prompt, earlier calls and their results in the conversation) is in
:mod:`tokenfactory.services.tool_render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..engine.protocol import StructuredSpec
from ..errors import InvalidRequestError
from ..wire.chat import ChatCompletionRequest, NamedToolChoice
from .structured import check_enforceable, response_format_spec
from .tool_grammar import auto_call_spec, forced_call_spec
from .tool_parse import ToolCallParser

Choice = Literal["none", "auto", "required", "named"]


@dataclass
class ToolPlan:
    choice: Choice
    tools: list[dict[str, Any]] = field(default_factory=list)  # OpenAI tool objects, as sent
    forced: str | None = None  # the tool a named choice forces
    structured: StructuredSpec | None = None

    @property
    def names(self) -> frozenset[str]:
        return frozenset(t["function"]["name"] for t in self.tools)

    @property
    def parses_calls(self) -> bool:
        return self.choice != "none" and bool(self.tools)

    def parser(self) -> ToolCallParser | None:
        if not self.parses_calls:
            return None
        return ToolCallParser(self.names, bare_call=self.choice in ("required", "named"))


def plan_tools(req: ChatCompletionRequest, native_template: bool = False) -> ToolPlan:
    """Validate the tool fields of ``req`` and decide how its calls are constrained.

    ``native_template``: the chat template renders tools itself (its own call format), so an
    ``auto`` choice is parsed but not constrained to our ``<tool_call>`` format.
    """
    check_tool_messages(req)
    response_spec = response_format_spec(req.response_format)
    if not req.tools:
        if req.tool_choice is not None:
            raise InvalidRequestError(
                "'tool_choice' was given but 'tools' is empty or missing; pass the tools the"
                " model may call",
                param="tool_choice",
            )
        return ToolPlan("none", structured=response_spec)
    tools = _checked_tools(req)
    choice, forced = _choice(req.tool_choice, {t["function"]["name"] for t in tools})
    if choice == "none":
        return ToolPlan("none", tools, structured=response_spec)
    pairs = [(t["function"]["name"], t["function"].get("parameters")) for t in tools]
    if choice in ("required", "named"):
        if response_spec is not None:
            raise InvalidRequestError(
                "'response_format' cannot be combined with a tool_choice that forces a call",
                param="response_format",
            )
        chosen = [p for p in pairs if forced is None or p[0] == forced]
        return ToolPlan(choice, tools, forced, forced_call_spec(chosen))
    spec = None
    if not native_template:
        parallel = req.parallel_tool_calls is not False
        spec = auto_call_spec(pairs, parallel, response_spec)
    return ToolPlan("auto", tools, structured=spec or response_spec)


def _checked_tools(req: ChatCompletionRequest) -> list[dict[str, Any]]:
    tools = []
    seen: set[str] = set()
    for i, tool in enumerate(req.tools or []):
        fn = tool.function
        if fn.name in seen:
            raise InvalidRequestError(
                f"tools[{i}]: the function name '{fn.name}' is used by more than one tool",
                param="tools",
            )
        seen.add(fn.name)
        if fn.parameters is not None:
            params = fn.parameters
            if params.get("type", "object") != "object":
                raise InvalidRequestError(
                    f"tools[{i}] ('{fn.name}'): parameters must be a JSON Schema of type"
                    f" 'object', got type {params.get('type')!r}",
                    param="tools",
                )
            check_enforceable(params, f"the parameters of tool '{fn.name}'", param="tools")
        tools.append(tool.model_dump(exclude_none=True, by_alias=True))
    return tools


def _choice(value: Any, names: set[str]) -> tuple[Choice, str | None]:
    if value is None:
        return "auto", None
    if isinstance(value, NamedToolChoice):
        name = value.function.name
        if name not in names:
            raise InvalidRequestError(
                f"tool_choice names the function '{name}', which is not among the tools"
                f" ({', '.join(sorted(names))})",
                param="tool_choice",
            )
        return "named", name
    return value, None


def check_tool_messages(req: ChatCompletionRequest) -> None:
    """Every ``tool`` message answers a call made by an earlier assistant message."""
    calls: set[str] = set()
    for i, m in enumerate(req.messages):
        if m.role == "assistant" and m.tool_calls:
            calls.update(c.id for c in m.tool_calls)
        elif m.role == "tool":
            if not m.tool_call_id:
                raise InvalidRequestError(
                    f"messages[{i}]: a message with role 'tool' needs a 'tool_call_id'",
                    param="messages",
                )
            if m.tool_call_id not in calls:
                raise InvalidRequestError(
                    f"messages[{i}]: tool_call_id '{m.tool_call_id}' does not match a tool call"
                    " of an earlier assistant message",
                    param="messages",
                )
