"""Chat, streaming, completions, structured outputs and tools on vLLM through /v1."""

from __future__ import annotations

import json

import jsonschema
import pytest

from .conftest import CHAT_MODEL

pytestmark = pytest.mark.gpu

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]


def test_chat_answers_and_counts_usage(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL, messages=QUESTION, max_tokens=24, temperature=0
    )
    choice = response.choices[0]
    assert response.model == CHAT_MODEL
    assert "Paris" in choice.message.content
    assert choice.finish_reason in {"stop", "length"}
    assert 0 < response.usage.completion_tokens <= 24
    assert response.usage.prompt_tokens > 5


def test_streaming_equals_the_non_streamed_greedy_answer(client):
    full = client.chat.completions.create(
        model=CHAT_MODEL, messages=QUESTION, max_tokens=32, temperature=0
    )
    pieces, finish = [], None
    for chunk in client.chat.completions.create(
        model=CHAT_MODEL, messages=QUESTION, max_tokens=32, temperature=0, stream=True
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    assert len(pieces) > 1, "streaming should deliver the answer in several chunks"
    assert "".join(pieces) == full.choices[0].message.content
    assert finish == full.choices[0].finish_reason


def test_max_tokens_ends_with_length(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Count from 1 to 100, separated by commas."}],
        max_tokens=5,
        temperature=0,
    )
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 5


def test_seed_makes_sampling_repeatable(client):
    def sample(seed: int) -> str:
        return (
            client.chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "Tell me a short story."}],
                max_tokens=24,
                temperature=1.0,
                seed=seed,
            )
            .choices[0]
            .message.content
        )

    assert sample(7) == sample(7)
    assert len({sample(s) for s in range(4)}) > 1


def test_completions(client):
    response = client.completions.create(
        model=CHAT_MODEL, prompt="The capital of France is", max_tokens=8, temperature=0
    )
    choice = response.choices[0]
    assert choice.text.strip()
    assert choice.finish_reason in {"stop", "length"}
    assert 0 < response.usage.completion_tokens <= 8


CITY_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 24},
        "country": {"type": "string", "maxLength": 24},
        "population_millions": {"type": "integer", "minimum": 0, "maximum": 100},
    },
    "required": ["city", "country", "population_millions"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("seed", range(6))
def test_json_schema_output_is_valid_across_seeds(client, seed):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Describe Paris as JSON."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": CITY_SCHEMA, "strict": True},
        },
        max_tokens=96,
        temperature=1.0,
        seed=seed,
    )
    choice = response.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    jsonschema.validate(json.loads(choice.message.content), CITY_SCHEMA)


def test_json_object_mode(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": 'Return {"name": "Ada"} as JSON.'}],
        response_format={"type": "json_object"},
        max_tokens=64,
        temperature=0,
    )
    assert response.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(response.choices[0].message.content), dict)


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 32},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


def test_named_tool_choice_returns_a_valid_call(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=64,
        temperature=0,
    )
    message = response.choices[0].message
    assert message.tool_calls, message
    call = message.tool_calls[0]
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER_TOOL["function"]["parameters"])


def test_unknown_model_is_a_404_in_the_error_shape(client):
    import openai

    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="no/such-model", messages=QUESTION, max_tokens=4)
    assert info.value.body["type"] == "not_found"


def test_health_reports_the_vllm_engine(gpu_server):
    import httpx

    body = httpx.get(f"{gpu_server.url}/health?api_key={gpu_server.api_key}", timeout=10).json()
    assert body["ready"] is True
    assert body["engine"] == "vllm"
    assert {m["id"]: m["status"] for m in body["models"]}[CHAT_MODEL] == "loaded"
