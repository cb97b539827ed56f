"""A table of malformed and out-of-range requests: each gets the right 4xx and the error shape,
and the server keeps answering afterwards."""

from __future__ import annotations

import pytest

MSG = [{"role": "user", "content": "hi"}]
CHAT = "/v1/chat/completions"


def chat(**overrides):
    body = {"model": "test/chat", "messages": MSG}
    body.update(overrides)
    return body


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


CASES = [
    # (name, method, path, json body or raw bytes, expected status, field named in the message)
    ("no body", "POST", CHAT, b"", 400, None),
    ("not json", "POST", CHAT, b"{not json", 400, None),
    ("json array", "POST", CHAT, b"[1, 2]", 400, None),
    ("missing model", "POST", CHAT, without(chat(), "model"), 400, "model"),
    ("missing messages", "POST", CHAT, without(chat(), "messages"), 400, "messages"),
    ("empty messages", "POST", CHAT, chat(messages=[]), 400, "messages"),
    ("messages not a list", "POST", CHAT, chat(messages="hi"), 400, "messages"),
    (
        "unknown role",
        "POST",
        CHAT,
        chat(messages=[{"role": "wizard", "content": "x"}]),
        400,
        "role",
    ),
    ("message without role", "POST", CHAT, chat(messages=[{"content": "x"}]), 400, "role"),
    (
        "content a number",
        "POST",
        CHAT,
        chat(messages=[{"role": "user", "content": 5}]),
        400,
        "content",
    ),
    (
        "image content part",
        "POST",
        CHAT,
        chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]),
        400,
        "content",
    ),
    ("max_tokens 0", "POST", CHAT, chat(max_tokens=0), 400, "max_tokens"),
    ("max_tokens too big", "POST", CHAT, chat(max_tokens=4097), 400, "max_tokens"),
    ("max_tokens a string", "POST", CHAT, chat(max_tokens="many"), 400, "max_tokens"),
    ("temperature negative", "POST", CHAT, chat(temperature=-0.1), 400, "temperature"),
    ("temperature above 2", "POST", CHAT, chat(temperature=2.5), 400, "temperature"),
    ("top_p above 1", "POST", CHAT, chat(top_p=1.5), 400, "top_p"),
    ("top_p negative", "POST", CHAT, chat(top_p=-1), 400, "top_p"),
    ("presence_penalty below -2", "POST", CHAT, chat(presence_penalty=-3), 400, "presence_penalty"),
    (
        "frequency_penalty above 2",
        "POST",
        CHAT,
        chat(frequency_penalty=2.1),
        400,
        "frequency_penalty",
    ),
    ("five stop sequences", "POST", CHAT, chat(stop=["a", "b", "c", "d", "e"]), 400, "stop"),
    ("empty stop sequence", "POST", CHAT, chat(stop=[""]), 400, "stop"),
    ("stop a number", "POST", CHAT, chat(stop=7), 400, "stop"),
    ("n = 17", "POST", CHAT, chat(n=17), 400, "n"),
    ("stream a string", "POST", CHAT, chat(stream="yes please"), 400, "stream"),
    (
        "bad response_format type",
        "POST",
        CHAT,
        chat(response_format={"type": "xml"}),
        400,
        "response_format",
    ),
    (
        "json_schema without schema",
        "POST",
        CHAT,
        chat(response_format={"type": "json_schema"}),
        400,
        "response_format",
    ),
    ("unknown model", "POST", CHAT, chat(model="acme/unknown"), 404, "model"),
    ("embedding model for chat", "POST", CHAT, chat(model="test/embed"), 400, "model"),
    ("embeddings without input", "POST", "/v1/embeddings", {"model": "test/embed"}, 400, "input"),
    (
        "embeddings empty list",
        "POST",
        "/v1/embeddings",
        {"model": "test/embed", "input": []},
        400,
        "input",
    ),
    (
        "embeddings empty string",
        "POST",
        "/v1/embeddings",
        {"model": "test/embed", "input": [""]},
        400,
        "input",
    ),
    (
        "embeddings bad encoding",
        "POST",
        "/v1/embeddings",
        {"model": "test/embed", "input": "x", "encoding_format": "int8"},
        400,
        "encoding_format",
    ),
    (
        "embeddings with chat model",
        "POST",
        "/v1/embeddings",
        {"model": "test/chat", "input": "x"},
        400,
        "model",
    ),
    (
        "embeddings unknown model",
        "POST",
        "/v1/embeddings",
        {"model": "x/y", "input": "x"},
        404,
        "model",
    ),
    (
        "completions without prompt",
        "POST",
        "/v1/completions",
        {"model": "test/chat"},
        400,
        "prompt",
    ),
    (
        "completions max_tokens negative",
        "POST",
        "/v1/completions",
        {"model": "test/chat", "prompt": "x", "max_tokens": -5},
        400,
        "max_tokens",
    ),
    ("unknown route", "GET", "/v1/nothing-here", None, 404, None),
    ("wrong method", "GET", CHAT, None, 405, None),
    ("unknown model retrieve", "GET", "/v1/models/acme/none", None, 404, None),
    (
        "user message without content",
        "POST",
        CHAT,
        chat(messages=[{"role": "user"}]),
        400,
        "messages[0].content",
    ),
    (
        "second message without content",
        "POST",
        CHAT,
        chat(messages=[{"role": "system", "content": "x"}, {"role": "user", "content": None}]),
        400,
        "messages[1].content",
    ),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status", "field"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_request_gets_error_shape(api, name, method, path, body, status, field):
    if isinstance(body, bytes):
        r = api.request(method, path, content=body, headers={"content-type": "application/json"})
    else:
        r = api.request(method, path, json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert error["message"]
    expected_type = {400: "invalid_request", 404: "not_found", 405: "invalid_request"}[status]
    assert error["type"] == expected_type
    if field:
        assert field in error["message"], error["message"]
    assert api.get("/health").status_code == 200
    ok = api.post(CHAT, json=chat(max_tokens=3))
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "Hel"


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30
