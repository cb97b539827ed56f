"""The Responses API through the official ``openai`` client, on both real engines: create,
retrieve, delete and a stream of typed events. (Tools, structured output, chaining and
workspaces: ``tests/integration/test_responses_real.py`` on the TransformersEngine.)"""

from __future__ import annotations

import openai
import pytest

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
QUESTION = "What is the capital of France? Answer with one word."


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
    )
    assert r.object == "response" and r.model == CHAT
    assert r.status in ("completed", "incomplete")
    assert r.output_text.strip()
    assert 0 < r.usage.output_tokens <= 8
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.metadata == {"suite": "contract"}

    again = client.responses.retrieve(r.id)
    assert again.id == r.id and again.output_text == r.output_text
    items = client.responses.input_items.list(r.id)
    assert [i.type for i in items.data] == ["message"]
    assert items.data[0].content[0].text == QUESTION

    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_stream_events_add_up_to_the_response(client):
    with client.responses.stream(
        model=CHAT, input=QUESTION, max_output_tokens=8, temperature=0
    ) as stream:
        events = list(stream)
    final = events[-1].response  # get_final_response() wants response.completed only
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] in ("response.completed", "response.incomplete")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas and deltas == final.output_text
    assert final.usage.output_tokens > 0
    assert client.responses.retrieve(final.id).output_text == final.output_text
