"""OpenAI's and vLLM's request fields, honoured the same on both real engines: ``n``,
``logit_bias``, ``top_k``/``min_p``/``repetition_penalty``, ``min_tokens`` and ``ignore_eos``.
Each check compares answers of the same engine (which greedy word wins can differ between
machines), with a handful of tokens per request."""

from __future__ import annotations

import httpx
import openai
import pytest

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
QUESTION = [{"role": "user", "content": "Name a colour."}]
SHORT = [{"role": "user", "content": "Say hi."}]  # greedy: a few tokens, then the end


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)


def token_ids(server, text: str) -> list[int]:
    r = httpx.post(
        server.base_url + "/tokenize",
        json={"model": CHAT, "prompt": text, "add_special_tokens": False},
        headers={"Authorization": f"Bearer {server.api_key}"},
    )
    r.raise_for_status()
    return r.json()["tokens"]


def greedy(client, messages=QUESTION, max_tokens=4, **fields):
    return client.chat.completions.create(
        model=CHAT, messages=messages, max_tokens=max_tokens, temperature=0, **fields
    )


def test_n_choices_streamed_and_not(client):
    one = greedy(client)
    r = greedy(client, n=2)
    assert [c.index for c in r.choices] == [0, 1]
    assert {c.message.content for c in r.choices} == {one.choices[0].message.content}
    assert r.usage.prompt_tokens == one.usage.prompt_tokens  # the prompt counts once
    assert r.usage.completion_tokens == 2 * one.usage.completion_tokens
    stream = client.chat.completions.create(
        model=CHAT,
        messages=QUESTION,
        max_tokens=4,
        temperature=0,
        n=2,
        stream=True,
        stream_options={"include_usage": True},
    )
    texts, finishes, usage = {0: "", 1: ""}, {}, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert texts == {0: one.choices[0].message.content, 1: one.choices[0].message.content}
    assert finishes == {0: one.choices[0].finish_reason, 1: one.choices[0].finish_reason}
    assert usage is not None and usage.completion_tokens == r.usage.completion_tokens


def test_logit_bias_bans_and_forces(client, server):
    plain = greedy(client, logprobs=True)
    first = plain.choices[0].logprobs.content[0].token
    (banned,) = token_ids(server, first) or pytest.skip("the first token is not one token")
    r = greedy(client, logit_bias={str(banned): -100}, logprobs=True)
    assert r.choices[0].logprobs.content[0].token != first
    (forced,) = token_ids(server, " banana")
    r = greedy(client, max_tokens=3, logit_bias={str(forced): 100})
    assert r.choices[0].message.content == " banana" * 3
    with pytest.raises(openai.BadRequestError) as err:
        greedy(client, logit_bias={"999999999": 5})
    assert err.value.body["param"] == "logit_bias"


def test_top_k_one_and_min_p_one_are_greedy(client):
    plain = greedy(client, max_tokens=6).choices[0].message.content
    for fields in ({"top_k": 1}, {"min_p": 1.0}):
        r = client.chat.completions.create(
            model=CHAT,
            messages=QUESTION,
            max_tokens=6,
            temperature=1.5,
            seed=3,
            extra_body=fields,
        )
        assert r.choices[0].message.content == plain, fields
    assert greedy(client, extra_body={"repetition_penalty": 1.3}).choices[0].message.content


def test_min_tokens_and_ignore_eos_fix_the_length(client):
    ended = greedy(client, SHORT, max_tokens=40)
    assert ended.choices[0].finish_reason == "stop"
    n = ended.usage.completion_tokens + 3
    for fields in ({"ignore_eos": True}, {"min_tokens": n}):
        r = greedy(client, SHORT, max_tokens=n, extra_body=fields)
        assert r.usage.completion_tokens == n, fields
        assert r.choices[0].finish_reason == "length"
    # min_tokens below max_tokens: the end may come after it
    r = greedy(client, SHORT, max_tokens=n + 8, extra_body={"min_tokens": n})
    assert r.usage.completion_tokens >= n


@pytest.mark.parametrize(
    ("create", "fields", "param"),
    [
        ("chat", {"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ("chat", {"modalities": ["text", "audio"]}, "modalities"),
        ("chat", {"prediction": {"type": "content", "content": "x"}}, "prediction"),
        ("chat", {"logit_bias": {"999999": 1}}, "logit_bias"),  # outside the vocabulary
        ("completions", {"suffix": "!"}, "suffix"),
        ("completions", {"best_of": 2}, "best_of"),
        ("embeddings", {"dimensions": 64}, "dimensions"),
        ("embeddings", {"input": [[101, 2023, 102]]}, "input"),
    ],
)
def test_fields_no_model_here_can_honour_are_a_400_naming_them(client, create, fields, param):
    calls = {
        "chat": lambda: client.chat.completions.create(
            model=CHAT, messages=QUESTION, max_tokens=1, **fields
        ),
        "completions": lambda: client.completions.create(
            model=CHAT, prompt="Hi", max_tokens=1, **fields
        ),
        "embeddings": lambda: client.embeddings.create(
            model="sentence-transformers/all-MiniLM-L6-v2", **{"input": "Hi", **fields}
        ),
    }
    with pytest.raises(openai.BadRequestError) as err:
        calls[create]()
    assert err.value.body["param"] == param, err.value.body
