"""Find tool calls in a model's output, incrementally, as OpenAI-shaped events.

A call is a JSON object ``{"name": ..., "arguments": {...}}`` (``parameters`` is accepted for
``arguments``), either wrapped in ``<tool_call>...</tool_call>`` anywhere in the text, or the
whole output when a grammar forced a bare call. The same parser serves streaming (events as
text arrives: content, a call's start with its name, fragments of its arguments) and
non-streaming (feed everything, read the result), so both always agree.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
_HEAD = re.compile(
    r'\s*\{\s*"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"(?:arguments|parameters)"\s*:\s*'
)


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


@dataclass
class ParsedCall:
    id: str
    name: str
    arguments: str = ""
    complete: bool = False


@dataclass
class ContentEvent:
    text: str


@dataclass
class CallStartEvent:
    index: int
    id: str
    name: str


@dataclass
class ArgumentsEvent:
    index: int
    text: str


Event = ContentEvent | CallStartEvent | ArgumentsEvent


@dataclass
class ToolCallParser:
    """Feed text deltas; get events. ``bare_call``: the output starts with a call object."""

    tool_names: frozenset[str]
    bare_call: bool = False
    calls: list[ParsedCall] = field(default_factory=list)
    content: str = ""
    _buf: str = ""
    _state: str = "text"  # text | head | args | tail
    _depth: int = 0
    _in_string: bool = False
    _escape: bool = False
    _block: str = ""  # everything of the current call after the open tag

    def __post_init__(self) -> None:
        if self.bare_call:
            self._state = "head"

    def feed(self, text: str) -> list[Event]:
        self._buf += text
        events: list[Event] = []
        progress = True
        while progress and self._buf:
            progress = getattr(self, f"_step_{self._state}")(events)
        return events

    def finish(self) -> list[Event]:
        """End of output: flush what is held back; an unfinished call stays incomplete."""
        events = self.feed("")
        if self._state == "head":
            events += self._whole_block(self._block + self._buf, closed=False)
        elif self._state == "text" and (self._buf.strip() or (self._buf and not self.calls)):
            events.append(self._content(self._buf))
        self._buf = ""
        return events

    @property
    def complete_calls(self) -> list[ParsedCall]:
        return [c for c in self.calls if c.complete]

    # --- states -------------------------------------------------------------------------

    def _step_text(self, events: list[Event]) -> bool:
        buf = self._buf
        if self.calls and buf.lstrip().startswith(CLOSE_TAG):
            self._buf = buf.lstrip()[len(CLOSE_TAG) :]
            return True
        if self.calls and (CLOSE_TAG.startswith(buf.lstrip()) or not buf.strip()):
            return False  # maybe the closing tag of the previous call, or space between calls
        at = buf.find(OPEN_TAG)
        if at >= 0:
            if buf[:at].strip() or (at and not self.calls):
                events.append(self._content(buf[:at]))
            self._buf = buf[at + len(OPEN_TAG) :]
            self._state, self._block = "head", ""
            return True
        keep = _partial_suffix(buf, OPEN_TAG)
        if len(buf) > keep:
            head = buf[: len(buf) - keep]
            if head.strip() or not self.calls:
                events.append(self._content(head))
            self._buf = buf[len(buf) - keep :]
        return False

    def _step_head(self, events: list[Event]) -> bool:
        m = _HEAD.match(self._buf)
        if m and self._buf[m.end() :].lstrip()[:1]:
            rest = self._buf[m.end() :].lstrip()
            name = _unescape(m.group(1))
            if rest[0] == "{" and name in self.tool_names:
                call = ParsedCall(new_call_id(), name)
                self.calls.append(call)
                events.append(CallStartEvent(len(self.calls) - 1, call.id, name))
                self._block += self._buf[: len(self._buf) - len(rest)]
                self._buf = rest
                self._state, self._depth, self._in_string, self._escape = "args", 0, False, False
                return True
        end = self._buf.find(CLOSE_TAG)
        if end >= 0:  # a block in another shape: parse it whole
            block = self._block + self._buf[:end]
            self._buf = self._buf[end + len(CLOSE_TAG) :]
            events += self._whole_block(block, closed=True)
            return True
        return False

    def _step_args(self, events: list[Event]) -> bool:
        call = self.calls[-1]
        taken = 0
        for ch in self._buf:
            taken += 1
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif ch == '"':
                    self._in_string = False
            elif ch == '"':
                self._in_string = True
            elif ch in "{[":
                self._depth += 1
            elif ch in "}]":
                self._depth -= 1
                if self._depth == 0:
                    break
        piece, self._buf = self._buf[:taken], self._buf[taken:]
        call.arguments += piece
        events.append(ArgumentsEvent(len(self.calls) - 1, piece))
        if self._depth == 0:
            call.complete = _is_json_object(call.arguments)
            self._state = "tail"
            return True
        return False

    def _step_tail(self, events: list[Event]) -> bool:
        rest = self._buf.lstrip()
        if not rest:
            return False
        if rest[0] == "}":
            self._buf = rest[1:]
        else:  # not the wrapper's closing brace: the call was malformed
            self.calls[-1].complete = False
            self._buf = rest
        self._state = "text"
        return True

    # --- helpers ------------------------------------------------------------------------

    def _whole_block(self, block: str, closed: bool) -> list[Event]:
        self._state, self._block = "text", ""
        parsed = _parse_call(block, self.tool_names)
        if parsed is None:
            raw = block if self.bare_call else OPEN_TAG + block + (CLOSE_TAG if closed else "")
            return [self._content(raw)] if raw.strip() else []
        name, arguments = parsed
        call = ParsedCall(new_call_id(), name, arguments, complete=True)
        self.calls.append(call)
        index = len(self.calls) - 1
        return [CallStartEvent(index, call.id, name), ArgumentsEvent(index, arguments)]

    def _content(self, text: str) -> ContentEvent:
        self.content += text
        return ContentEvent(text)


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


def _unescape(value: str) -> str:
    try:
        return json.loads(f'"{value}"')
    except json.JSONDecodeError:
        return value


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False


def _parse_call(block: str, names: frozenset[str]) -> tuple[str, str] | None:
    try:
        obj = json.loads(block.strip())
    except json.JSONDecodeError:
        return None
    if isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]
    if not isinstance(obj, dict) or obj.get("name") not in names:
        return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        if not _is_json_object(args):
            return None
        return obj["name"], args
    if not isinstance(args, dict):
        return None
    return obj["name"], json.dumps(args, ensure_ascii=False)


def parse_tool_calls(
    text: str, tool_names: frozenset[str], bare_call: bool = False
) -> tuple[str | None, list[ParsedCall]]:
    """Non-streaming: ``(content or None, complete calls)``."""
    parser = ToolCallParser(tool_names, bare_call)
    parser.feed(text)
    parser.finish()
    content = parser.content.strip() or None
    return content, parser.complete_calls
