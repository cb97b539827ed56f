"""The gateway over the fake engine: shapes, streaming, auth, stop strings, usage."""

from __future__ import annotations

import json

from tests.fakes import FakeEngine


def chat(api, **body):
    payload = {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}], **body}
    return api.post("/v1/chat/completions", json=payload)


def test_chat_completion_shape_and_usage(api, fake_engine: FakeEngine):
    r = chat(api)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "test/chat"
    message = body["choices"][0]["message"]
    assert (message["role"], message["content"]) == ("assistant", "Hello from the fake engine.")
    assert body["choices"][0]["finish_reason"] == "stop"
    prompt_len = len(fake_engine.requests[0].prompt_token_ids)
    assert body["usage"] == {
        "prompt_tokens": prompt_len,
        "completion_tokens": len("Hello from the fake engine."),
        "total_tokens": prompt_len + len("Hello from the fake engine."),
    }
    assert r.headers["x-request-id"]


def test_defaults_reach_the_engine(api, fake_engine: FakeEngine):
    chat(api)
    params = fake_engine.requests[0].sampling
    assert (params.max_tokens, params.temperature, params.top_p) == (1024, 0.7, 1.0)


def test_max_tokens_gives_length(api):
    r = chat(api, max_tokens=5)
    choice = r.json()["choices"][0]
    assert choice["message"]["content"] == "Hello"
    assert choice["finish_reason"] == "length"


def test_stop_string_cuts_and_reports_stop(api):
    r = chat(api, stop=["fake"])
    choice = r.json()["choices"][0]
    assert choice["message"]["content"] == "Hello from the "
    assert choice["finish_reason"] == "stop"


def test_streaming_chunks_and_usage(api):
    with api.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "test/chat",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Hello from the fake engine."
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 27


def test_missing_and_bad_key(api):
    r = api.post("/v1/chat/completions", json={}, headers={"Authorization": ""})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "authentication_error"
    r = api.get("/v1/models", headers={"Authorization": "Bearer tf-nope"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key"


def test_api_key_query_parameter(api, fake_gateway):
    r = api.get(f"/v1/models?api_key={fake_gateway.test_key}", headers={"Authorization": ""})
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert ids == ["test/chat", "test/embed"]


def test_unknown_model_404(api):
    r = chat(api, model="nope/nope")
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "not_found"


def test_embeddings_float_and_base64(api):
    r = api.post("/v1/embeddings", json={"model": "test/embed", "input": ["a", "bb"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    r = api.post(
        "/v1/embeddings", json={"model": "test/embed", "input": "a", "encoding_format": "base64"}
    )
    assert isinstance(r.json()["data"][0]["embedding"], str)


def test_completions(api):
    r = api.post(
        "/v1/completions", json={"model": "test/chat", "prompt": ["a", "b"], "max_tokens": 3}
    )
    body = r.json()
    assert [c["text"] for c in body["choices"]] == ["Hel", "Hel"]
    assert body["usage"]["prompt_tokens"] == 2


def test_health(api):
    r = api.get("/health")
    assert r.status_code == 200
    assert r.json()["ready"] is True
