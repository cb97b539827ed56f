"""Streamed chunks encoded once per stream: the same JSON as the wire models give."""

from __future__ import annotations

import json

import pytest

from tokenfactory.wire.chat import ChatCompletionChunk, ChoiceDelta, ChunkChoice
from tokenfactory.wire.completions import Completion, CompletionChoice
from tokenfactory.wire.events import TextEvents, event

TEXTS = ["plain", ' "quoted" \\ back', "line\nbreak\ttab", "Zoë 日本 🍵", "\u0000\u2028", ""]


def chat_chunk(text: str) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="chatcmpl-1",
        created=123,
        model='m/"odd" name',
        choices=[ChunkChoice(delta=ChoiceDelta(content=text))],
    )


def payload(line: bytes) -> dict:
    assert line.startswith(b"data: ") and line.endswith(b"\n\n")
    return json.loads(line[6:-2])


@pytest.mark.parametrize("text", TEXTS)
def test_text_events_match_the_model_encoding(text):
    events = TextEvents(chat_chunk(TextEvents.SLOT))
    assert payload(events(text)) == payload(event(chat_chunk(text)))


@pytest.mark.parametrize("text", TEXTS)
def test_completion_text_events_match_the_model_encoding(text):
    def chunk(t: str) -> Completion:
        return Completion(
            id="cmpl-1", created=1, model="m", choices=[CompletionChoice(index=2, text=t)]
        )

    assert payload(TextEvents(chunk(TextEvents.SLOT))(text)) == payload(event(chunk(text)))


def test_a_template_without_the_slot_is_refused():
    with pytest.raises(ValueError):
        TextEvents(chat_chunk("no slot here"))
