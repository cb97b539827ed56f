"""SSE parsing (chunks split anywhere), [DONE], mid-stream errors, closing on early exit."""

from __future__ import annotations

import json

import httpx
import pytest

import tokenfactory.sdk as sdk
from tests.sdk.conftest import Recorder, chunk, error_body, reply, sse
from tokenfactory.sdk._streaming import SSEDecoder, iter_events


def events_of(chunks):
    return list(iter_events(chunks))


def test_decoder_fields_comments_and_multiline_data():
    raw = (
        b": keep-alive comment\n"
        b"event: message\nid: 7\nretry: 1500\ndata: first line\ndata: second\n\n"
        b"data:no-space\n\n"
        b'data: {"a": 1}\n\n'
    )
    events = events_of([raw])
    assert [e.data for e in events] == ["first line\nsecond", "no-space", '{"a": 1}']
    assert (events[0].event, events[0].id, events[0].retry) == ("message", "7", 1500)
    assert events[2].json() == {"a": 1}


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_split_point_gives_the_same_events(newline):
    payloads = [json.dumps(chunk(text)) for text in ["Hé", "llo ☃", " wörld"]]
    raw = b"".join(b"data: " + p.encode() + newline + newline for p in payloads)
    raw += b"data: two" + newline + b"data: lines" + newline + newline
    expected = [*payloads, "two\nlines"]
    for cut in range(1, len(raw)):
        assert [e.data for e in events_of([raw[:cut], raw[cut:]])] == expected, cut
    # byte by byte: split inside multi-byte characters and between \r and \n
    assert [e.data for e in events_of([bytes([b]) for b in raw])] == expected


def test_line_separator_characters_inside_data_are_not_line_breaks():
    text = "a\u2028b\x85c\x0bd"
    events = events_of([f"data: {text}\n\n".encode()])
    assert [e.data for e in events] == [text]


def test_last_event_without_blank_line_is_flushed():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: tail") == []
    assert [e.data for e in decoder.flush()] == ["tail"]


def stream_client(make_client, body: bytes, **headers):
    handler = Recorder(
        reply(200, content=body, headers={"content-type": "text/event-stream", **headers})
    )
    return make_client(handler), handler


def create_stream(client):
    return client.chat.completions.create(
        model="test/chat", messages=[{"role": "user", "content": "hi"}], stream=True
    )


def test_stream_yields_chunks_until_done(make_client):
    body = sse(chunk("Hel"), chunk("lo"), chunk(finish="stop"), "[DONE]", chunk("ignored"))
    client, handler = stream_client(make_client, body, **{"x-request-id": "req-s"})
    stream = create_stream(client)
    assert isinstance(stream, sdk.Stream)
    assert stream.request_id == "req-s"
    parts = list(stream)
    assert "".join(p.choices[0].delta.content or "" for p in parts) == "Hello"
    assert parts[-1].choices[0].finish_reason == "stop"
    assert handler.body()["stream"] is True
    assert handler.requests[0].headers["accept"] == "text/event-stream"
    assert stream.response.is_closed


@pytest.mark.parametrize(
    ("type_", "cls"),
    [
        ("rate_limit_exceeded", sdk.RateLimitError),
        ("server_error", sdk.InternalServerError),
        ("invalid_request", sdk.BadRequestError),
        ("service_unavailable", sdk.ServiceUnavailableError),
    ],
)
def test_error_event_mid_stream_raises_typed_error(make_client, type_, cls):
    body = sse(chunk("partial"), error_body("engine fell over", type_), "[DONE]")
    client, _ = stream_client(make_client, body, **{"x-request-id": "req-e"})
    received = []
    with pytest.raises(cls) as info, create_stream(client) as stream:
        for part in stream:
            received.append(part.choices[0].delta.content)
    assert received == ["partial"]
    assert info.value.message == "engine fell over"
    assert info.value.request_id == "req-e"
    assert stream.response.is_closed


def test_error_status_before_stream_starts(make_client):
    handler = Recorder(reply(404, error_body("no such model", "not_found", "model_not_found")))
    client = make_client(handler)
    with pytest.raises(sdk.NotFoundError) as info:
        create_stream(client)
    assert info.value.code == "model_not_found"


class TrackedStream(httpx.SyncByteStream):
    def __init__(self, parts):
        self.parts = parts
        self.sent = 0
        self.closed = False

    def __iter__(self):
        for part in self.parts:
            self.sent += 1
            yield part

    def close(self):
        self.closed = True


def test_breaking_out_closes_the_connection(make_client):
    body = TrackedStream([sse(chunk(str(i))) for i in range(100)] + [sse("[DONE]")])
    client = make_client(lambda request: httpx.Response(200, stream=body))
    for part in create_stream(client):
        if part.choices[0].delta.content == "2":
            break
    assert body.closed
    assert body.sent < 10


def test_context_manager_closes_unread_stream(make_client):
    body = TrackedStream([sse(chunk("a")), sse("[DONE]")])
    client = make_client(lambda request: httpx.Response(200, stream=body))
    with create_stream(client) as stream:
        pass
    assert body.closed
    assert stream.response.is_closed


async def test_async_stream(make_async_client):
    body = sse(chunk("as"), chunk("ync"), "[DONE]")
    handler = Recorder(reply(200, content=body))
    client = make_async_client(handler)
    stream = await create_stream(client)
    assert isinstance(stream, sdk.AsyncStream)
    async with stream:
        text = "".join([p.choices[0].delta.content async for p in stream])
    assert text == "async"
    assert stream.response.is_closed
    await client.close()


async def test_async_stream_error_event(make_async_client):
    body = sse(chunk("x"), error_body("too many", "rate_limit_exceeded"))
    client = make_async_client(Recorder(reply(200, content=body)))
    with pytest.raises(sdk.RateLimitError):
        async with await create_stream(client) as stream:
            async for _ in stream:
                pass
    await client.close()
