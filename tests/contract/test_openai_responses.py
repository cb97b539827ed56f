"""The Responses API through the official ``openai`` client, on both real engines: create,
retrieve, delete and a stream of typed events, each with its tokens' logprobs
(``include=["message.output_text.logprobs"]``). (Tools, structured output, chaining and
workspaces: ``tests/integration/test_responses_real.py`` on the TransformersEngine.)"""

from __future__ import annotations

import math

import openai
import pytest

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
QUESTION = "What is the capital of France? Answer with one word."
LOGPROBS = ["message.output_text.logprobs"]


def assert_greedy_logprobs(logprobs, text: str, alternatives: int) -> None:
    """Real log probabilities of the tokens that wrote ``text``; greedy took the top one."""
    assert logprobs and "".join(t.token for t in logprobs) == text
    for t in logprobs:
        assert math.isfinite(t.logprob) and t.logprob <= 0
        assert len(t.top_logprobs) == alternatives
        assert t.top_logprobs[0].token == t.token  # temperature 0: the most likely token
        assert t.top_logprobs[0].logprob == pytest.approx(t.logprob, abs=1e-4)


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)


def test_create_retrieve_delete(client):
    r = client.responses.create(
        model=CHAT,
        input=QUESTION,
        instructions="You are a geography tutor.",
        max_output_tokens=8,
        temperature=0,
        metadata={"suite": "contract"},
        include=LOGPROBS,
        top_logprobs=3,
    )
    assert r.object == "response" and r.model == CHAT
    assert r.status in ("completed", "incomplete")
    assert r.output_text.strip()
    assert 0 < r.usage.output_tokens <= 8
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.metadata == {"suite": "contract"}
    (part,) = r.output[0].content
    assert_greedy_logprobs(part.logprobs, r.output_text, alternatives=3)

    again = client.responses.retrieve(r.id)
    assert again.id == r.id and again.output_text == r.output_text
    assert again.output[0].content[0].logprobs == part.logprobs
    items = client.responses.input_items.list(r.id)
    assert [i.type for i in items.data] == ["message"]
    assert items.data[0].content[0].text == QUESTION

    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_stream_events_add_up_to_the_response(client):
    with client.responses.stream(
        model=CHAT,
        input=QUESTION,
        max_output_tokens=8,
        temperature=0,
        include=LOGPROBS,
        top_logprobs=1,
    ) as stream:
        events = list(stream)
    final = events[-1].response  # get_final_response() wants response.completed only
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] in ("response.completed", "response.incomplete")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert "".join(e.delta for e in deltas) == final.output_text
    assert_greedy_logprobs([t for e in deltas for t in e.logprobs], final.output_text, 1)
    assert final.usage.output_tokens > 0
    assert client.responses.retrieve(final.id).output_text == final.output_text
