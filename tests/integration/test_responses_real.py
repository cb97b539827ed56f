"""The Responses API on the TransformersEngine through the official ``openai`` client and the
OpenAI Agents SDK: structured output parsed into a pydantic model, a function-tool round trip
(``previous_response_id`` + ``function_call_output``), a streamed function call, ``store:
false``, workspaces, bad input, and an agent with one function tool.

The model is the 135M default, greedy: the checks are about shape and validity (the grammars
guarantee them), and the tool is forced with ``tool_choice`` where a call must happen.
"""

from __future__ import annotations

import json

import openai
import pytest
from pydantic import BaseModel, Field

pytestmark = pytest.mark.integration

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 20}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
FORCE_WEATHER = {"type": "function", "name": "get_weather"}


@pytest.fixture(scope="module")
def client(transformers_server) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=transformers_server.base_url, api_key=transformers_server.api_key, max_retries=0
    )


class City(BaseModel):
    name: str = Field(max_length=20)
    country: str = Field(max_length=20)


def test_parse_fills_a_pydantic_model(client):
    r = client.responses.parse(
        model=CHAT,
        input="Paris is the capital of France. Extract the city and its country.",
        text_format=City,
        max_output_tokens=48,
        temperature=0,
    )
    assert r.status == "completed"
    assert isinstance(r.output_parsed, City)
    assert City.model_validate_json(r.output_text) == r.output_parsed


def test_function_tool_round_trip(client):
    """The call streams (its arguments as deltas), then its output goes back, chained."""
    with client.responses.stream(
        model=CHAT,
        input="What is the weather in Paris?",
        tools=[WEATHER],
        tool_choice=FORCE_WEATHER,
        max_output_tokens=32,
        temperature=0,
    ) as stream:
        events = list(stream)
        first = stream.get_final_response()
    deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    (done,) = [e for e in events if e.type == "response.function_call_arguments.done"]
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and call.arguments == done.arguments
    assert json.loads(deltas) == json.loads(call.arguments)
    assert set(json.loads(call.arguments)) == {"city"}

    second = client.responses.create(
        model=CHAT,
        previous_response_id=first.id,
        input=[
            {
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": json.dumps({"temperature_c": 21, "sky": "clear"}),
            }
        ],
        tools=[WEATHER],
        tool_choice="none",
        max_output_tokens=4,
        temperature=0,
    )
    assert second.previous_response_id == first.id
    assert second.output_text.strip()
    assert not [item for item in second.output if item.type == "function_call"]
    items = client.responses.input_items.list(second.id).data
    assert [(i.type, i.call_id) for i in items] == [("function_call_output", call.call_id)]


def test_store_false_workspaces_and_bad_input(client, transformers_server):
    unstored = client.responses.create(
        model=CHAT, input="Hi", store=False, max_output_tokens=2, temperature=0
    )
    assert unstored.output_text is not None
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)

    kept = client.responses.create(model=CHAT, input="Hi", max_output_tokens=2, temperature=0)
    keys = transformers_server.core.keys
    keys.create_workspace("responses-other")
    _, other_key = keys.create_key("responses-other", name="other")
    other = openai.OpenAI(base_url=transformers_server.base_url, api_key=other_key, max_retries=0)
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(kept.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(kept.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(kept.id)
    with pytest.raises(openai.BadRequestError):
        other.responses.create(model=CHAT, input="Hi", previous_response_id=kept.id)
    assert client.responses.retrieve(kept.id).id == kept.id

    image = {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "auto"}
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model=CHAT, input=[{"role": "user", "content": [image]}])
    assert bad.value.body["param"] == "input[0].content"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=CHAT, input="Hi", tools=[{"type": "web_search"}])


async def test_agents_sdk_agent_calls_its_function_tool(transformers_server):
    import agents  # openai-agents, in the test extra

    agents.set_tracing_disabled(True)
    asked: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        asked.append(city)
        return f"It is sunny and 21 C in {city}."

    model = agents.OpenAIResponsesModel(
        model=CHAT,
        openai_client=openai.AsyncOpenAI(
            base_url=transformers_server.base_url,
            api_key=transformers_server.api_key,
            max_retries=0,
        ),
    )
    agent = agents.Agent(
        name="weather",
        instructions="Answer questions about the weather with the get_weather tool.",
        tools=[get_weather],
        model=model,
        model_settings=agents.ModelSettings(
            tool_choice="get_weather", temperature=0, max_tokens=32
        ),
        tool_use_behavior="stop_on_first_tool",
    )
    called = await agents.Runner.run(agent, "What is the weather in Paris?", max_turns=2)
    assert [item.type for item in called.new_items] == ["tool_call_item", "tool_call_output_item"]
    assert len(asked) == 1 and asked[0]
    assert called.final_output == f"It is sunny and 21 C in {asked[0]}."

    # the conversation, the tool's call and output included, back to the gateway for the answer
    # (JSON of bounded length: greedy text from a 135M model may not end within the limit)
    answering = agent.clone(
        model_settings=agents.ModelSettings(tool_choice="none", temperature=0, max_tokens=48),
        tool_use_behavior="run_llm_again",
        output_type=Report,
    )
    answered = await agents.Runner.run(answering, called.to_input_list(), max_turns=1)
    assert isinstance(answered.final_output, Report)
    assert len(asked) == 1


class Report(BaseModel):
    summary: str = Field(max_length=40)
