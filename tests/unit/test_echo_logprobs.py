"""``echo`` with ``logprobs`` on /v1/completions returns the prompt's own logprobs (the first
null), as OpenAI's legacy completions do; ``max_tokens: 0`` with ``echo`` scores the prompt
alone (how lm-evaluation-harness computes log-likelihoods)."""

from __future__ import annotations

import json

import pytest

from tests.fakes import FakeEngine, LogprobEngine, fake_prompt_logprob

URL = "/v1/completions"
REPLY = "Hi there"


@pytest.fixture
def fake_engine():
    return LogprobEngine(replies=[REPLY])


def complete(api, **body):
    return api.post(URL, json={"model": "test/chat", **body})


def streamed(api, **body) -> list[dict]:
    with api.stream("POST", URL, json={"model": "test/chat", "stream": True, **body}) as r:
        r.read()
    assert r.status_code == 200, r.text
    lines = [ln[6:] for ln in r.text.splitlines() if ln.startswith("data: ")]
    return [json.loads(ln) for ln in lines if ln != "[DONE]"]


def prompt_entries(prompt: str) -> list[float | None]:
    return [None] + [fake_prompt_logprob(j) for j in range(1, len(prompt))]


def test_echo_returns_the_prompt_logprobs_then_the_completion(api, fake_engine):
    r = complete(api, prompt="Say:", echo=True, logprobs=1)
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    assert choice["text"] == "Say:" + REPLY
    logprobs = choice["logprobs"]
    assert logprobs["tokens"] == list("Say:" + REPLY)
    assert logprobs["token_logprobs"] == prompt_entries("Say:") + [-0.5] * len(REPLY)
    assert logprobs["top_logprobs"][0] is None
    assert logprobs["top_logprobs"][1:] == [{"x": -1.0}] * (3 + len(REPLY))
    assert logprobs["text_offset"] == list(range(len("Say:" + REPLY)))
    assert fake_engine.requests[-1].prompt_logprobs == 1
    assert r.json()["usage"] == {"prompt_tokens": 4, "completion_tokens": 8, "total_tokens": 12}


def test_echo_without_logprobs_asks_for_none(api, fake_engine):
    r = complete(api, prompt="Say:", echo=True)
    assert r.json()["choices"][0] == {
        "index": 0,
        "text": "Say:" + REPLY,
        "finish_reason": "stop",
        "logprobs": None,
    }
    assert fake_engine.requests[-1].prompt_logprobs is None
    complete(api, prompt="Say:", logprobs=2)
    assert fake_engine.requests[-1].prompt_logprobs is None  # logprobs without echo


def test_each_choice_has_its_own_prompts_logprobs(api):
    r = complete(api, prompt=["ab", "xyz"], n=2, echo=True, logprobs=0, max_tokens=2)
    choices = r.json()["choices"]
    assert [c["text"] for c in choices] == ["abHi", "abHi", "xyzHi", "xyzHi"]
    for choice, prompt in zip(choices, ["ab", "ab", "xyz", "xyz"], strict=True):
        logprobs = choice["logprobs"]
        assert logprobs["tokens"] == list(prompt + "Hi")
        assert logprobs["token_logprobs"] == [*prompt_entries(prompt), -0.5, -0.5]
        assert logprobs["top_logprobs"] is None  # logprobs 0: no alternatives
        assert logprobs["text_offset"] == list(range(len(prompt) + 2))


def test_token_id_prompts_get_one_entry_per_id(api):
    r = complete(api, prompt=[83, 97, 121], echo=True, logprobs=1, max_tokens=1)
    logprobs = r.json()["choices"][0]["logprobs"]
    assert logprobs["tokens"] == ["S", "a", "y", "H"]
    assert logprobs["token_logprobs"][:3] == prompt_entries("Say")


def test_the_streamed_echo_chunk_carries_the_prompt_logprobs(api):
    chunks = streamed(api, prompt=["ab", "xyz"], echo=True, logprobs=1)
    for index, prompt in enumerate(["ab", "xyz"]):
        mine = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == index]
        assert mine[0]["text"] == prompt
        assert mine[0]["logprobs"]["tokens"] == list(prompt)
        assert mine[0]["logprobs"]["token_logprobs"] == prompt_entries(prompt)
        assert mine[0]["logprobs"]["top_logprobs"][0] is None
        assert "".join(c["text"] for c in mine) == prompt + REPLY
        entries = [c["logprobs"] for c in mine if c.get("logprobs")]
        assert [t for e in entries for t in e["tokens"]] == list(prompt + REPLY)
        offsets = [o for e in entries for o in e["text_offset"]]
        assert offsets == list(range(len(prompt + REPLY)))
        assert mine[-1]["finish_reason"] == "stop"


def test_streamed_echo_without_logprobs_comes_first_and_bare(api):
    chunks = streamed(api, prompt="Say:", echo=True)
    assert chunks[0]["choices"][0]["text"] == "Say:"
    assert chunks[0]["choices"][0].get("logprobs") is None
    assert "".join(c["choices"][0]["text"] for c in chunks) == "Say:" + REPLY


def test_max_tokens_0_with_echo_scores_the_prompt_alone(api, fake_engine):
    r = complete(api, prompt="Say:", echo=True, logprobs=1, max_tokens=0)
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    assert choice["text"] == "Say:" and choice["finish_reason"] == "length"
    assert choice["logprobs"]["tokens"] == list("Say:")
    assert choice["logprobs"]["token_logprobs"] == prompt_entries("Say:")
    assert choice["logprobs"]["text_offset"] == [0, 1, 2, 3]
    assert r.json()["usage"] == {"prompt_tokens": 4, "completion_tokens": 0, "total_tokens": 4}

    chunks = streamed(api, prompt="Say:", echo=True, logprobs=1, max_tokens=0)
    assert [c["choices"][0]["text"] for c in chunks] == ["Say:", ""]
    assert chunks[0]["choices"][0]["logprobs"]["token_logprobs"] == prompt_entries("Say:")
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_max_tokens_0_with_echo_alone_never_reaches_the_engine(api, fake_engine):
    r = complete(api, prompt="Say:", echo=True, max_tokens=0)
    assert r.json()["choices"][0]["text"] == "Say:"
    assert r.json()["choices"][0]["logprobs"] is None
    assert r.json()["usage"]["prompt_tokens"] == 4
    assert fake_engine.requests == []


@pytest.mark.parametrize(
    "body", [{"max_tokens": 0}, {"max_tokens": 0, "echo": False}, {"max_tokens": -1, "echo": True}]
)
def test_max_tokens_below_1_without_echo_is_still_a_400(api, body):
    r = complete(api, prompt="Say:", **body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "max_tokens" and error["code"] == "invalid_parameter"
    assert error["type"] == "invalid_request"


def test_min_tokens_above_a_max_tokens_of_0_is_a_400(api):
    r = complete(api, prompt="Say:", echo=True, max_tokens=0, min_tokens=3)
    assert r.status_code == 400 and r.json()["error"]["param"] == "min_tokens"


def test_an_engine_without_prompt_logprobs_answers_400(api, fake_gateway):
    fake_gateway.engine.supports_prompt_logprobs = False
    r = complete(api, prompt="Say:", echo=True, logprobs=1)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == "echo" and error["code"] == "unsupported_parameter"
    assert "prompt's logprobs" in error["message"] and "fake engine" in error["message"]
    assert complete(api, prompt="Say:", echo=True).status_code == 200
    assert complete(api, prompt="Say:", logprobs=1).status_code == 200


def test_the_plain_fake_engine_declares_no_prompt_logprobs():
    assert not getattr(FakeEngine(), "supports_prompt_logprobs", False)
