"""The tool-call parser: whole outputs and the same outputs streamed in small pieces."""

from __future__ import annotations

import json

import pytest

from tokenfactory.services.tool_parse import (
    ArgumentsEvent,
    CallStartEvent,
    ContentEvent,
    ToolCallParser,
    parse_tool_calls,
)

NAMES = frozenset({"get_weather", "search"})
CALL = (
    '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Paris, {FR}"}}\n</tool_call>'
)


def stream(text: str, size: int, bare: bool = False) -> tuple[ToolCallParser, list]:
    parser = ToolCallParser(NAMES, bare_call=bare)
    events = []
    for i in range(0, len(text), size):
        events += parser.feed(text[i : i + size])
    events += parser.finish()
    return parser, events


def test_plain_text_is_content():
    content, calls = parse_tool_calls("The weather is <b>nice</b>.", NAMES)
    assert content == "The weather is <b>nice</b>."
    assert calls == []


def test_one_tagged_call():
    content, calls = parse_tool_calls(CALL, NAMES)
    assert content is None
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"location": "Paris, {FR}"}
    assert calls[0].id.startswith("call_")


def test_two_calls_and_text_around():
    other = '<tool_call>{"name": "search", "arguments": {"query": "a \\"b\\" }"}}</tool_call>'
    content, calls = parse_tool_calls(f"Let me check.\n{CALL}\n{other}", NAMES)
    assert content == "Let me check."
    assert [c.name for c in calls] == ["get_weather", "search"]
    assert json.loads(calls[1].arguments) == {"query": 'a "b" }'}


def test_bare_call_from_a_forcing_grammar():
    _, calls = parse_tool_calls('{"name": "search", "arguments": {"query": "x"}}', NAMES, True)
    assert [c.name for c in calls] == ["search"]


@pytest.mark.parametrize(
    "block",
    [
        '{"arguments": {"location": "Rome"}, "name": "get_weather"}',
        '{"name": "get_weather", "parameters": {"location": "Rome"}}',
        '[{"name": "get_weather", "arguments": "{\\"location\\": \\"Rome\\"}"}]',
    ],
)
def test_other_shapes_inside_tags(block):
    _, calls = parse_tool_calls(f"<tool_call>{block}</tool_call>", NAMES)
    assert len(calls) == 1
    assert json.loads(calls[0].arguments) == {"location": "Rome"}


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>{"name": "launch_missiles", "arguments": {}}</tool_call>',
        "<tool_call>{not json}</tool_call>",
    ],
)
def test_unknown_or_malformed_calls_stay_text(text):
    content, calls = parse_tool_calls(text, NAMES)
    assert calls == []
    assert content


def test_a_cut_call_is_not_a_call():
    _, calls = parse_tool_calls('<tool_call>{"name": "get_weather", "arguments": {"loc', NAMES)
    assert calls == []


def test_cut_call_streamed_stays_incomplete():
    parser, _ = stream('<tool_call>\n{"name": "get_weather", "arguments": {"loc', 3)
    assert parser.calls and not parser.calls[0].complete
    assert parser.complete_calls == []


@pytest.mark.parametrize("size", [1, 2, 5, 17, 1000])
def test_streaming_pieces_reassemble_to_the_same_result(size):
    text = f"{CALL}\n{CALL}"
    parser, events = stream(text, size)
    starts = [e for e in events if isinstance(e, CallStartEvent)]
    assert [e.index for e in starts] == [0, 1]
    for index in (0, 1):
        args = "".join(e.text for e in events if isinstance(e, ArgumentsEvent) and e.index == index)
        assert json.loads(args) == {"location": "Paris, {FR}"}
    assert not [e for e in events if isinstance(e, ContentEvent)]
    _, calls = parse_tool_calls(text, NAMES)
    assert [c.arguments for c in parser.complete_calls] == [c.arguments for c in calls]


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_streamed_text_holds_back_only_a_possible_tag(size):
    parser, events = stream("a < b and <tool", size)
    assert "".join(e.text for e in events if isinstance(e, ContentEvent)) == "a < b and <tool"
    assert parser.calls == []
