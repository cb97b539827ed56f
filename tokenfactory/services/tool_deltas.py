"""Tool-call parser events → OpenAI ``delta`` objects for streamed chat completions."""

from __future__ import annotations

from ..wire.chat import ChoiceDelta, ToolCallDelta, ToolCallDeltaFunction
from .tool_parse import ArgumentsEvent, CallStartEvent, ContentEvent, Event, ToolCallParser


def finish_reason(engine_reason: str | None, has_calls: bool, *, named: bool = False) -> str | None:
    """``tool_calls`` when the model finished normally with calls; ``length`` stays ``length``.
    A call the request forced by name (``tool_choice: {"type": "function", ...}``) finishes
    with ``stop``, as OpenAI answers it."""
    if has_calls and engine_reason == "stop" and not named:
        return "tool_calls"
    return engine_reason


class ToolStream:
    """Turns streamed text into content deltas and ``delta.tool_calls`` fragments.

    Without a parser (no tools, or ``tool_choice: "none"``) text passes through unchanged.
    """

    def __init__(self, parser: ToolCallParser | None, *, named: bool = False) -> None:
        self.parser = parser
        self.named = named  # the request forced one tool by name

    def feed(self, text: str) -> list[ChoiceDelta]:
        if self.parser is None:
            return [ChoiceDelta(content=text)] if text else []
        return _deltas(self.parser.feed(text))

    def finish(self) -> list[ChoiceDelta]:
        return [] if self.parser is None else _deltas(self.parser.finish())

    def finish_reason(self, engine_reason: str | None) -> str | None:
        has_calls = self.parser is not None and bool(self.parser.complete_calls)
        return finish_reason(engine_reason, has_calls, named=self.named)


def _deltas(events: list[Event]) -> list[ChoiceDelta]:
    out: list[ChoiceDelta] = []
    for e in events:
        if isinstance(e, ContentEvent):
            if e.text:
                out.append(ChoiceDelta(content=e.text))
        elif isinstance(e, CallStartEvent):
            fn = ToolCallDeltaFunction(name=e.name, arguments="")
            out.append(
                ChoiceDelta(
                    tool_calls=[ToolCallDelta(index=e.index, id=e.id, type="function", function=fn)]
                )
            )
        elif isinstance(e, ArgumentsEvent) and e.text:
            fn = ToolCallDeltaFunction(arguments=e.text)
            out.append(ChoiceDelta(tool_calls=[ToolCallDelta(index=e.index, function=fn)]))
    return out
