"""The context and input limits, the same 400 on every engine."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def context_length(target, model: str) -> int:
    length = target.model_info(model)["context_length"]
    assert isinstance(length, int) and length > 0
    return length


def long_text(target, model: str, tokens: int) -> str:
    """A text of at least ``tokens`` tokens in ``model``'s tokenizer."""
    tokenizer = target.tokenizer(model)
    text = "apple banana cherry " * (tokens // 3 + 1)
    while len(tokenizer(text, add_special_tokens=False)["input_ids"]) < tokens:
        text += text
    return text


def assert_context_error(r, param: str) -> dict:
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["code"], error["type"], error["param"]) == (
        "context_length_exceeded",
        "invalid_request",
        param,
    )
    return error


def test_a_prompt_that_fills_the_context_is_a_400(target):
    context = context_length(target, target.chat_model)
    text = long_text(target, target.chat_model, context + 1)
    for path, body, param in (
        ("/chat/completions", {"messages": [{"role": "user", "content": text}]}, "messages"),
        ("/completions", {"prompt": text}, "prompt"),
    ):
        r = target.post(path, {"model": target.chat_model, "max_tokens": 4} | body)
        error = assert_context_error(r, param)
        assert str(context) in error["message"]


def test_max_tokens_past_the_context_is_a_400_and_the_default_shrinks(target):
    context = context_length(target, target.chat_model)
    tokenizer = target.tokenizer(target.chat_model)
    prompt = long_text(target, target.chat_model, max(context - 4096, 0) + 64)
    prompt_tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    if prompt_tokens >= context:  # a context under 4096: ask for more than what is left
        prompt = long_text(target, target.chat_model, context // 2)
        prompt_tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    room = context - prompt_tokens
    asked = min(room + 1, 4096)
    assert asked > room, "the test needs a prompt that leaves less than 4096 tokens"
    r = target.post(
        "/completions", {"model": target.chat_model, "prompt": prompt, "max_tokens": asked}
    )
    error = assert_context_error(r, "max_tokens")
    assert "max_tokens" in error["message"] and str(room) in error["message"]
    # the largest max_tokens that fits is accepted, and the default shrinks to it (checked
    # where the request is prepared: running a 4k-token prompt would only cost time)
    for asked, expected in ((room, room), (None, min(room, 1024))):
        prepared = prepare_completion(target, prompt, asked)
        assert prepared.generations[0].sampling.max_tokens == expected


def prepare_completion(target, prompt: str, max_tokens: int | None):
    from tokenfactory.core.records import Call
    from tokenfactory.services.completions import CompletionService
    from tokenfactory.wire.completions import CompletionRequest

    gateway = target.server.core
    principal = gateway.keys.authenticate(target.server.api_key)
    return CompletionService(gateway).prepare(
        CompletionRequest(model=target.chat_model, prompt=prompt, max_tokens=max_tokens),
        Call(principal, "/v1/completions"),
    )


def test_an_over_long_embedding_input_is_a_400_naming_it(target):
    limit = context_length(target, target.embedding_model)
    tokenizer = target.tokenizer(target.embedding_model)
    fits = "a short sentence"
    too_long = long_text(target, target.embedding_model, limit + 1)
    assert len(tokenizer(too_long)["input_ids"]) > limit
    r = target.post("/embeddings", {"model": target.embedding_model, "input": [fits, too_long]})
    error = assert_context_error(r, "input")
    assert "input[1]" in error["message"] and str(limit) in error["message"]
    # the longest input that fits is embedded, and counted with its special tokens
    words = too_long.split()
    while len(tokenizer(" ".join(words))["input_ids"]) > limit:
        words = words[:-1]
    longest = " ".join(words)
    r = target.post("/embeddings", {"model": target.embedding_model, "input": [longest, fits]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["index"] for d in body["data"]] == [0, 1]
    expected = sum(len(tokenizer(t)["input_ids"]) for t in (longest, fits))
    assert body["usage"]["prompt_tokens"] == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [("top_p", 0), ("top_p", 1.5), ("max_tokens", 0), ("temperature", -0.1)],
)
def test_a_sampling_bound_is_the_wires_400_on_every_engine(target, field, value):
    """Every bound an engine needs is on the wire: the same 400 (naming the field) whatever
    the engine, and a value just inside it runs on every engine."""
    body = {"model": target.chat_model, "messages": [{"role": "user", "content": "hi"}]}
    r = target.post("/chat/completions", {**body, "max_tokens": 2, field: value})
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["message"] + str(r.json()["error"]["param"])


def test_the_smallest_top_p_runs_on_every_engine(target):
    body = {"model": target.chat_model, "messages": [{"role": "user", "content": "hi"}]}
    r = target.post("/chat/completions", {**body, "max_tokens": 2, "top_p": 1e-6})
    assert r.status_code == 200, r.text
