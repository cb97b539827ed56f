"""OpenAI's request fields on the fake engine: each is honoured (``n``, ``logit_bias``, vLLM's
sampling extensions, ``service_tier``) or refused with a 400 naming it, above the engines."""

from __future__ import annotations

import json

import pytest

from tokenfactory.usage.repository import UsageRepository

CHAT = {"model": "test/chat", "messages": [{"role": "user", "content": "hi"}]}
PROMPT = {"model": "test/chat", "prompt": "hi"}


def refused(api, path: str, body: dict, param: str) -> dict:
    r = api.post(path, json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"].split("[")[0] == param, error
    assert set(error) >= {"message", "type", "code", "param"}
    return error


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 0}, "n"),
        ({"n": 17}, "n"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"logit_bias": {"hello": 5}}, "logit_bias"),
        ({"logit_bias": {"\u00b2": 5}}, "logit_bias"),
        ({"logit_bias": {"65": 101}}, "logit_bias"),
        ({"logit_bias": {"65": "1"}}, "logit_bias"),
        ({"top_k": -2}, "top_k"),
        ({"min_p": 1.5}, "min_p"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
        ({"min_tokens": 9, "max_tokens": 8}, "min_tokens"),
        ({"ignore_eos": "yes"}, "ignore_eos"),
        ({"service_tier": "fastest"}, "service_tier"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(api, extra, param):
    refused(api, "/v1/chat/completions", {**CHAT, **extra}, param)
    refused(api, "/v1/completions", {**PROMPT, **extra}, param)


def test_a_logit_bias_outside_the_vocabulary_is_a_400(api):
    error = refused(
        api, "/v1/chat/completions", {**CHAT, "logit_bias": {"1114112": 1}}, "logit_bias"
    )
    assert "vocabulary" in error["message"]


def test_sampling_fields_reach_the_engine(api, fake_engine):
    body = {
        **CHAT,
        "temperature": 0.5,
        "top_k": 7,
        "min_p": 0.1,
        "repetition_penalty": 1.3,
        "min_tokens": 2,
        "max_tokens": 5,
        "ignore_eos": True,
        "logit_bias": {"65": -100, "66": 100},
    }
    assert api.post("/v1/chat/completions", json=body).status_code == 200
    sampling = fake_engine.requests[-1].sampling
    assert (sampling.top_k, sampling.min_p, sampling.repetition_penalty) == (7, 0.1, 1.3)
    assert (sampling.min_tokens, sampling.ignore_eos) == (2, True)
    assert sampling.logit_bias == ((65, -100.0), (66, 100.0))
    # vLLM's "no limit" spellings of top_k
    assert api.post("/v1/chat/completions", json={**CHAT, "top_k": -1}).status_code == 200
    assert fake_engine.requests[-1].sampling.top_k == 0


def test_n_chat_choices_each_have_an_index_and_usage_sums_them(api, fake_gateway, fake_engine):
    fake_engine.replies = ["one", "three", "seven"]
    r = api.post("/v1/chat/completions", json={**CHAT, "n": 3, "seed": 5, "user": "ann"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    texts = sorted(c["message"]["content"] for c in body["choices"])
    assert texts == ["one", "seven", "three"]
    prompt = len(fake_engine.requests[-1].prompt_token_ids)
    assert body["usage"] == {
        "prompt_tokens": prompt,  # one prompt, answered three times
        "completion_tokens": 3 + 5 + 5,
        "total_tokens": prompt + 13,
    }
    # each choice draws with its own seed, so they differ and still repeat
    assert sorted(g.sampling.seed for g in fake_engine.requests[-3:]) == [5, 6, 7]
    ws = fake_gateway.keys.find_workspace("default")
    row = fake_gateway.installed[UsageRepository].rows(ws.id, user="ann")[-1]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (prompt, 13)


def stream_events(api, path: str, body: dict) -> list[dict]:
    with api.stream("POST", path, json={**body, "stream": True}) as r:
        assert r.status_code == 200
        lines = [ln for ln in r.iter_lines() if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(ln[6:]) for ln in lines[:-1]]


def test_n_streamed_chunks_carry_their_choice_index(api, fake_engine):
    fake_engine.replies = ["ab", "cde"]
    events = stream_events(
        api, "/v1/chat/completions", {**CHAT, "n": 2, "stream_options": {"include_usage": True}}
    )
    texts: dict[int, str] = {}
    finished = set()
    for event in events[:-1]:
        (choice,) = event["choices"]
        texts[choice["index"]] = texts.get(choice["index"], "") + (
            choice["delta"].get("content") or ""
        )
        if choice.get("finish_reason"):
            finished.add(choice["index"])
    assert sorted(texts.values()) == ["ab", "cde"] and finished == {0, 1}
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 5


def test_n_completions_order_choices_by_prompt_then_choice(api, fake_engine):
    fake_engine.replies = ["x"]
    body = {**PROMPT, "prompt": ["a", "bb"], "n": 2, "echo": True}
    r = api.post("/v1/completions", json=body)
    assert r.status_code == 200, r.text
    choices = r.json()["choices"]
    assert [(c["index"], c["text"]) for c in choices] == [
        (0, "ax"),
        (1, "ax"),
        (2, "bbx"),
        (3, "bbx"),
    ]
    assert r.json()["usage"]["prompt_tokens"] == 1 + 2  # each prompt counted once
    events = stream_events(api, "/v1/completions", body)
    assert {e["choices"][0]["index"] for e in events} == {0, 1, 2, 3}


def test_service_tier_is_echoed(api):
    r = api.post("/v1/chat/completions", json={**CHAT, "service_tier": "auto"})
    assert r.json()["service_tier"] == "default"
    r = api.post("/v1/completions", json={**PROMPT, "service_tier": "flex"})
    assert r.json()["service_tier"] == "flex"
    assert api.post("/v1/chat/completions", json=CHAT).json()["service_tier"] == "default"
    events = stream_events(api, "/v1/chat/completions", {**CHAT, "service_tier": "priority"})
    assert {e["service_tier"] for e in events} == {"priority"}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"prediction": {"type": "content", "content": "x"}}, "prediction"),
        ({"web_search_options": {}}, "web_search_options"),
        ({"reasoning_effort": "high"}, "reasoning_effort"),
        ({"verbosity": "low"}, "verbosity"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"function_call": "auto"}, "function_call"),
        ({"store": True}, "store"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ],
)
def test_chat_fields_no_model_here_can_honour_are_refused(api, extra, param):
    error = refused(api, "/v1/chat/completions", {**CHAT, **extra}, param)
    assert param in error["message"]


def test_chat_fields_accepted_as_openai_defines_them(api, fake_gateway):
    body = {
        **CHAT,
        "modalities": ["text"],
        "store": False,
        "reasoning_effort": "none",
        "prompt_cache_key": "k",
        "metadata": {"team": "a"},
        "safety_identifier": "hashed-user",
    }
    assert api.post("/v1/chat/completions", json=body).status_code == 200
    ws = fake_gateway.keys.find_workspace("default")
    assert fake_gateway.installed[UsageRepository].rows(ws.id, user="hashed-user")


def test_legacy_completion_fields(api, fake_engine):
    refused(api, "/v1/completions", {**PROMPT, "suffix": "end"}, "suffix")
    refused(api, "/v1/completions", {**PROMPT, "best_of": 2}, "best_of")
    refused(api, "/v1/completions", {**PROMPT, "n": 2, "best_of": 3}, "best_of")
    r = api.post("/v1/completions", json={**PROMPT, "n": 2, "best_of": 2, "suffix": ""})
    assert len(r.json()["choices"]) == 2
    fake_engine.replies = ["!"]
    r = api.post("/v1/completions", json={**PROMPT, "prompt": [104, 105], "echo": True})
    assert r.json()["choices"][0]["text"] == "hi!"
    assert fake_engine.requests[-1].prompt_token_ids == [104, 105]
    r = api.post("/v1/completions", json={**PROMPT, "prompt": [[104], [105, 105]]})
    assert len(r.json()["choices"]) == 2 and r.json()["usage"]["prompt_tokens"] == 3
    refused(api, "/v1/completions", {**PROMPT, "prompt": [2**40]}, "prompt")
    refused(api, "/v1/completions", {**PROMPT, "prompt": [[]]}, "prompt")


def test_embedding_token_ids_and_dimensions(api, fake_engine):
    for ids in ([1, 2], [[1, 2], [3]]):
        error = refused(api, "/v1/embeddings", {"model": "test/embed", "input": ids}, "input")
        assert "token ids" in error["message"]
    fake_engine.shortens = False
    body = {"model": "test/embed", "input": "hi", "dimensions": 2}
    error = refused(api, "/v1/embeddings", body, "dimensions")
    assert "shortened" in error["message"]
    fake_engine.shortens = True
    assert len(api.post("/v1/embeddings", json=body).json()["data"][0]["embedding"]) == 2


def test_batch_lines_take_the_same_path(api, fake_engine):
    from tests.unit.test_core_doors import run_batch

    fake_engine.replies = ["ok"]
    bias = {**CHAT, "logit_bias": {"1114112": 1}}
    rows = [
        {"custom_id": "n", "url": "/v1/chat/completions", "body": {**CHAT, "n": 2}},
        {"custom_id": "bias", "url": "/v1/chat/completions", "body": bias},
    ]
    by_line = run_batch(api, rows)
    assert [c["index"] for c in by_line["n"]["body"]["choices"]] == [0, 1]
    assert by_line["n"]["body"]["usage"]["completion_tokens"] == 4
    assert by_line["bias"]["body"]["error"]["param"] == "logit_bias"
    # a field the wire refuses is found when the file is checked, with its line
    line = {"custom_id": "a", "url": "/v1/chat/completions", "body": {**CHAT, "audio": {}}}
    data = (json.dumps(line) + "\n").encode()
    r = api.post("/v1/batch", files={"file": ("b.jsonl", data)}, data={"sla": "1h"})
    assert r.status_code == 400 and "line 1: Invalid value for 'audio'" in r.text


def test_closing_merged_choices_closes_every_choice():
    """A client that leaves an ``n`` stream aborts every choice's engine request."""
    import asyncio

    from tokenfactory.services.generation import merged

    closed: list[int] = []

    async def endless(i: int):
        try:
            while True:
                await asyncio.sleep(0)
                yield i
        finally:
            closed.append(i)

    async def main() -> list[int]:
        seen = []
        stream = merged([endless(0), endless(1), endless(2)])
        async for i in stream:
            seen.append(i)
            if len(seen) == 9:
                break
        await stream.aclose()
        return seen

    seen = asyncio.run(main())
    assert set(seen) == {0, 1, 2} and sorted(closed) == [0, 1, 2]


def test_a_failing_choice_stops_the_others():
    import asyncio

    from tokenfactory.services.generation import run_all

    stopped: list[str] = []

    async def endless() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.append("endless")

    async def failing() -> None:
        await asyncio.sleep(0)
        raise ValueError("engine failed")

    with pytest.raises(ValueError, match="engine failed"):
        asyncio.run(run_all([endless(), failing()]))
    assert stopped == ["endless"]
