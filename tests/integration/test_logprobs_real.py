"""logprobs on the real CPU engine (SmolLM2): through the openai client, greedy decoding picks
the most likely token, and the streamed logprobs are the non-streamed ones."""

from __future__ import annotations

import math

import pytest
from openai import OpenAI

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
MSG = [{"role": "user", "content": "Name a colour."}]


@pytest.fixture
def client(server):
    return OpenAI(base_url=server.base_url, api_key=server.api_key)


def test_chat_logprobs_match_the_text_and_greedy_takes_the_top_token(client):
    r = client.chat.completions.create(
        model=MODEL, messages=MSG, max_tokens=8, temperature=0, logprobs=True, top_logprobs=3
    )
    content = r.choices[0].logprobs.content
    assert "".join(t.token for t in content) == r.choices[0].message.content
    assert len(content) <= r.usage.completion_tokens
    for t in content:
        assert t.logprob <= 0 and math.isfinite(t.logprob)
        assert len(t.top_logprobs) == 3
        assert t.top_logprobs[0].token == t.token  # greedy: the chosen token is the most likely
        assert t.top_logprobs[0].logprob == pytest.approx(t.logprob, abs=1e-4)
        assert [a.logprob for a in t.top_logprobs] == sorted(
            (a.logprob for a in t.top_logprobs), reverse=True
        )

    stream = client.chat.completions.create(
        model=MODEL, messages=MSG, max_tokens=8, temperature=0, logprobs=True, stream=True
    )
    streamed = [
        e
        for c in stream
        if c.choices and c.choices[0].logprobs
        for e in c.choices[0].logprobs.content
    ]
    assert [e.token for e in streamed] == [t.token for t in content]
    assert [e.logprob for e in streamed] == pytest.approx([t.logprob for t in content], abs=1e-4)


def test_completion_logprobs(client):
    r = client.completions.create(
        model=MODEL, prompt="The sky is", max_tokens=5, temperature=0, logprobs=2
    )
    logprobs = r.choices[0].logprobs
    assert "".join(logprobs.tokens) == r.choices[0].text
    assert len(logprobs.token_logprobs) == len(logprobs.tokens) == len(logprobs.text_offset)
    assert all(len(top) <= 2 and top for top in logprobs.top_logprobs)
    assert logprobs.text_offset[0] == 0
