"""Structured outputs and function calling through the official ``openai`` client.

Written against a ``client`` fixture only, so the same tests run on the CPU engine (here, on
the session ``server``) and on VLLMEngine (``tests/gpu/test_vllm_structured_tools.py`` imports
them under its own GPU ``client``). The model is the 135M default: the checks are about shape
and validity, which the grammars guarantee, not about the quality of the answers.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import openai
import pytest

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"

PRODUCT_ORDER = {
    "type": "object",
    "properties": {
        "product_name": {"type": "string"},
        "quantity": {"type": "integer"},
        "unit_price": {"type": "number"},
        "total_price": {"type": "number"},
    },
    "required": ["product_name", "quantity", "unit_price", "total_price"],
}
PRODUCT_MESSAGES = [
    {"role": "system", "content": "Extract product information from the user's message."},
    {"role": "user", "content": "I want to buy 3 apples at $2 each"},
]
EVENT = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 40},
        "attendees": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 3},
        "priority": {"enum": ["low", "medium", "high"]},
        "room": {
            "type": "object",
            "properties": {"floor": {"type": "integer", "minimum": 0, "maximum": 9}},
            "required": ["floor"],
        },
    },
    "required": ["title", "attendees", "priority", "room"],
}
EVENT_MESSAGES = [
    {"role": "system", "content": "Extract event information."},
    {"role": "user", "content": "Meeting with John tomorrow at 3pm in Conference Room A"},
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_database",
        "description": "Search for products in the database",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Search query", "maxLength": 40},
                "max_results": {"type": "integer", "minimum": 1, "maximum": 50},
            },
            "required": ["query"],
        },
    },
}
PARAMETERS = {
    t["function"]["name"]: t["function"]["parameters"] for t in (WEATHER_TOOL, SEARCH_TOOL)
}
WEATHER_QUESTION = [{"role": "user", "content": "What's the weather in Paris?"}]


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)


def schema_format(name: str, schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def concurrently(calls):
    """Run the requests at once: they share the engine's decode steps."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda f: f(), calls))


def test_schemas_hold_across_sampled_generations_next_to_free_text(client):
    jobs = [(PRODUCT_ORDER, PRODUCT_MESSAGES, seed) for seed in range(4)] + [
        (EVENT, EVENT_MESSAGES, seed) for seed in range(4)
    ]

    def constrained(schema, messages, seed):
        return lambda: client.chat.completions.create(
            model=CHAT,
            messages=messages,
            response_format=schema_format("s", schema),
            temperature=0.9,
            seed=seed,
            max_tokens=120,
        )

    def free():
        return client.chat.completions.create(
            model=CHAT, messages=PRODUCT_MESSAGES, temperature=0.9, seed=7, max_tokens=40
        )

    *results, plain = concurrently([constrained(*job) for job in jobs] + [free])
    for (schema, _, seed), r in zip(jobs, results, strict=True):
        choice = r.choices[0]
        assert choice.finish_reason == "stop", (seed, choice.message.content)
        jsonschema.validate(json.loads(choice.message.content), schema)
    assert plain.choices[0].message.content  # the unconstrained row in the same steps


def test_json_object_mode_is_one_object(client):
    for seed in (1, 2):
        r = client.chat.completions.create(
            model=CHAT,
            messages=[
                {"role": "system", "content": "You are a helpful assistant that outputs JSON."},
                {
                    "role": "user",
                    "content": "Extract the person's name and age from: John Smith"
                    " is 35 years old.",
                },
            ],
            response_format={"type": "json_object"},
            temperature=0.8,
            seed=seed,
            max_tokens=60,
        )
        if r.choices[0].finish_reason == "stop":
            assert isinstance(json.loads(r.choices[0].message.content), dict)
        else:
            assert r.choices[0].finish_reason == "length"


def test_cut_by_max_tokens_is_length(client):
    r = client.chat.completions.create(
        model=CHAT,
        messages=PRODUCT_MESSAGES,
        response_format=schema_format("product_order", PRODUCT_ORDER),
        max_tokens=6,
    )
    assert r.choices[0].finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.choices[0].message.content)


def test_structured_stream_reassembles_to_valid_json(client):
    stream = client.chat.completions.create(
        model=CHAT,
        messages=PRODUCT_MESSAGES,
        response_format=schema_format("product_order", PRODUCT_ORDER),
        temperature=0,
        max_tokens=120,
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(text), PRODUCT_ORDER)


def test_unsupported_keyword_is_a_400_naming_it(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=CHAT,
            messages=PRODUCT_MESSAGES,
            response_format=schema_format("t", {"type": "array", "uniqueItems": True}),
        )
    assert info.value.body["code"] == "unsupported_schema"
    assert "uniqueItems" in info.value.body["message"]


def check_call(call, tools=(WEATHER_TOOL, SEARCH_TOOL)) -> dict:
    assert call.type == "function" and call.id
    assert call.function.name in {t["function"]["name"] for t in tools}
    args = json.loads(call.function.arguments)
    jsonschema.validate(args, PARAMETERS[call.function.name])
    return args


def test_required_and_named_calls_validate_across_seeds(client):
    """Sampled at 0.8: the strings are bounded (maxLength), or a 135M model can ramble inside
    one until max_tokens (which is then reported as ``length``, never as a call)."""
    named = {"type": "function", "function": {"name": "search_database"}}
    weather = json.loads(json.dumps(WEATHER_TOOL))
    weather["function"]["parameters"]["properties"]["location"]["maxLength"] = 40
    jobs = [("required", seed) for seed in range(3)] + [(named, seed) for seed in range(3)]

    def call(choice, seed):
        return lambda: client.chat.completions.create(
            model=CHAT,
            messages=WEATHER_QUESTION,
            tools=[WEATHER_TOOL, SEARCH_TOOL],
            tool_choice=choice,
            temperature=0.8,
            seed=seed,
            max_tokens=80,
        )

    for (choice, _), r in zip(jobs, concurrently([call(*job) for job in jobs]), strict=True):
        out = r.choices[0]
        # OpenAI answers a call forced by name with "stop"
        assert out.finish_reason == ("tool_calls" if choice == "required" else "stop"), out

        (tool_call,) = out.message.tool_calls
        check_call(tool_call)
        if choice != "required":
            assert tool_call.function.name == "search_database"


def test_streamed_tool_call_is_reassembled(client):
    stream = client.chat.completions.create(
        model=CHAT,
        messages=WEATHER_QUESTION,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        temperature=0,
        max_tokens=60,
        stream=True,
    )
    calls: dict[int, dict] = {}
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        for piece in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(piece.index, {"id": None, "name": "", "arguments": ""})
            entry["id"] = entry["id"] or piece.id
            entry["name"] += piece.function.name or ""
            entry["arguments"] += piece.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert finish == "stop"  # a call forced by name
    assert list(calls) == [0] and calls[0]["id"] and calls[0]["name"] == "get_weather"
    jsonschema.validate(json.loads(calls[0]["arguments"]), PARAMETERS["get_weather"])


def get_weather(location: str, unit: str = "celsius") -> dict:
    return {"location": location, "temperature": 22, "unit": unit, "condition": "sunny"}


def test_weather_example_end_to_end(client):
    """The documented two-request flow; the first call forces the tool so it always calls."""
    response = client.chat.completions.create(
        model=CHAT,
        messages=WEATHER_QUESTION,
        tools=[WEATHER_TOOL],
        tool_choice="required",
        temperature=0,
        max_tokens=60,
    )
    message = response.choices[0].message
    assert response.choices[0].finish_reason == "tool_calls"
    tool_results = []
    for tool_call in message.tool_calls:
        args = check_call(tool_call)
        tool_results.append(
            {
                "role": "tool",
                "tool_call_id": tool_call.id,
                "content": json.dumps(get_weather(**args)),
            }
        )
    final = client.chat.completions.create(
        model=CHAT,
        messages=[*WEATHER_QUESTION, message, *tool_results],
        temperature=0,
        max_tokens=40,
    )
    assert final.choices[0].message.content
    assert final.choices[0].message.tool_calls is None


def test_auto_answers_either_way_and_calls_parse(client):
    for seed in (0, 1):
        r = client.chat.completions.create(
            model=CHAT,
            messages=WEATHER_QUESTION,
            tools=[WEATHER_TOOL],
            tool_choice="auto",
            seed=seed,
            max_tokens=60,
        )
        out = r.choices[0]
        if out.message.tool_calls:
            assert out.finish_reason == "tool_calls"
            check_call(out.message.tool_calls[0])
        else:
            assert out.message.content and not out.message.content.startswith("<tool_call>")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "'nope'"),
        (
            {
                "tools": [
                    {"type": "function", "function": {"name": "x", "parameters": {"type": "array"}}}
                ]
            },
            "type 'object'",
        ),
        (
            {
                "messages": [
                    *WEATHER_QUESTION,
                    {"role": "tool", "tool_call_id": "call_missing", "content": "{}"},
                ]
            },
            "call_missing",
        ),
    ],
)
def test_bad_tool_input_is_a_400(client, fields, words):
    kwargs = {"model": CHAT, "messages": WEATHER_QUESTION, "tools": [WEATHER_TOOL]} | fields
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**kwargs)
    assert words in info.value.body["message"]
