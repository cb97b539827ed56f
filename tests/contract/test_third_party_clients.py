"""Third-party OpenAI clients against the session's TransformersEngine gateway:
``langchain-openai``, ``litellm``, ``instructor`` and ``llama-index``'s OpenAI-like client, each
through chat, streaming, tools and structured output, as their users call them.

One small greedy request per client and feature. The 135M default model does not pick tools or
write JSON reliably on its own, so tools are forced (a named ``tool_choice``, or ``required``)
and structured output goes through ``response_format: json_schema`` or a forced tool: the
gateway's grammar then guarantees the shape, and these tests check what each client makes of it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from pydantic import BaseModel, Field

from tokenfactory.config import DEFAULT_CHAT_MODEL as CHAT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

HI = "Say hi."
WEATHER_QUESTION = "Weather in Paris?"
CITY_TEXT = "Paris is a city in France."
SHORT, LONG = 4, 32  # max_tokens: a plain answer; a tool call or a JSON object


class City(BaseModel):
    """A city, as the structured-output tests ask for it."""

    name: str = Field(max_length=12)
    country: str = Field(max_length=12)


def get_weather(location: str) -> str:
    """Get the current weather for a location."""
    return f"Sunny in {location}"


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "maxLength": 12}},
            "required": ["location"],
        },
    },
}
CITY_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "country": {"type": "string", "maxLength": 12},
    },
    "required": ["name", "country"],
    "additionalProperties": False,
}


def check_weather_arguments(arguments: Any) -> None:
    args = json.loads(arguments) if isinstance(arguments, str) else arguments
    assert isinstance(args, dict) and isinstance(args["location"], str), arguments


def check_city(city: Any) -> None:
    assert isinstance(city, City), city
    assert city.name and len(city.name) <= 12 and len(city.country) <= 12


@pytest.fixture(scope="module")
def gateway(transformers_server) -> tuple[str, str]:
    return transformers_server.base_url, transformers_server.api_key


# -- langchain-openai ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def langchain_llms(gateway):
    """``(short, long)``: a model for each output limit (arguments bound before
    ``bind_tools``/``with_structured_output`` would be lost)."""
    langchain_openai = pytest.importorskip("langchain_openai")
    base_url, key = gateway
    return tuple(
        langchain_openai.ChatOpenAI(
            model=CHAT, base_url=base_url, api_key=key, temperature=0, max_tokens=n, max_retries=0
        )
        for n in (SHORT, LONG)
    )


def test_langchain_chat(langchain_llms):
    answer = langchain_llms[0].invoke(HI)
    assert isinstance(answer.content, str) and answer.content
    assert answer.response_metadata["model_name"] == CHAT
    assert answer.usage_metadata["output_tokens"] > 0


def test_langchain_streaming(langchain_llms):
    chunks = list(langchain_llms[0].stream(HI))
    assert len(chunks) > 1
    assert "".join(str(c.content) for c in chunks)


def test_langchain_tools(langchain_llms):
    forced = langchain_llms[1].bind_tools([get_weather], tool_choice="get_weather")
    answer = forced.invoke(WEATHER_QUESTION)
    assert [call["name"] for call in answer.tool_calls] == ["get_weather"]
    check_weather_arguments(answer.tool_calls[0]["args"])


def test_langchain_structured_output(langchain_llms):
    structured = langchain_llms[1].with_structured_output(City, method="json_schema")
    check_city(structured.invoke(CITY_TEXT))


# -- litellm ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def litellm_call(gateway):
    # its model price map is read from the package, not fetched from GitHub at import
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm = pytest.importorskip("litellm")
    litellm.telemetry = False
    base_url, key = gateway

    def call(**kwargs: Any) -> Any:
        request = {"max_tokens": SHORT, "temperature": 0, **kwargs}
        messages = [{"role": "user", "content": request.pop("prompt", HI)}]
        return litellm.completion(
            model=f"openai/{CHAT}", api_base=base_url, api_key=key, messages=messages, **request
        )

    return call


def test_litellm_chat(litellm_call):
    answer = litellm_call()
    assert answer.choices[0].message.content
    assert answer.usage.completion_tokens > 0


def test_litellm_streaming(litellm_call):
    chunks = list(litellm_call(stream=True))
    assert len(chunks) > 1
    assert "".join(c.choices[0].delta.content or "" for c in chunks)


def test_litellm_tools(litellm_call):
    answer = litellm_call(
        prompt=WEATHER_QUESTION,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=LONG,
    )
    calls = answer.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather"]
    check_weather_arguments(calls[0].function.arguments)


def test_litellm_structured_output(litellm_call):
    answer = litellm_call(
        prompt=CITY_TEXT,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": CITY_SCHEMA, "strict": True},
        },
        max_tokens=LONG,
    )
    check_city(City.model_validate_json(answer.choices[0].message.content))


# -- instructor ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def instructor_clients(gateway):
    instructor = pytest.importorskip("instructor")
    import openai

    base_url, key = gateway
    raw = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)
    # TOOLS (its default): the model is forced to call a tool shaped like the response model
    return (
        instructor.from_openai(raw, mode=instructor.Mode.TOOLS),
        instructor.from_openai(raw, mode=instructor.Mode.JSON_SCHEMA),
    )


def ask_instructor(client, **kwargs: Any) -> Any:
    request = {
        "model": CHAT,
        "messages": [{"role": "user", "content": CITY_TEXT}],
        "temperature": 0,
        "max_tokens": LONG,
        "max_retries": 0,
        **kwargs,
    }
    return client.chat.completions.create(**request)


def test_instructor_chat(instructor_clients):
    tools_client, _ = instructor_clients
    answer = ask_instructor(
        tools_client,
        response_model=None,
        messages=[{"role": "user", "content": HI}],
        max_tokens=SHORT,
    )
    assert answer.model == CHAT and answer.choices[0].message.content


def test_instructor_streaming(instructor_clients):
    tools_client, _ = instructor_clients
    partials = list(
        tools_client.chat.completions.create_partial(
            model=CHAT,
            response_model=City,
            messages=[{"role": "user", "content": CITY_TEXT}],
            temperature=0,
            max_tokens=LONG,
            max_retries=0,
        )
    )
    assert len(partials) > 1  # the object grows as the tool call's arguments stream in
    check_city(City.model_validate(partials[-1].model_dump()))


def test_instructor_tools(instructor_clients):
    tools_client, _ = instructor_clients
    check_city(ask_instructor(tools_client, response_model=City))


def test_instructor_structured_output(instructor_clients):
    _, schema_client = instructor_clients
    check_city(ask_instructor(schema_client, response_model=City))


# -- llama-index (OpenAI-like) ---------------------------------------------------------------
@pytest.fixture(scope="module")
def llama_llms(gateway):
    """``(short, long)``: a client for each output limit."""
    openai_like = pytest.importorskip("llama_index.llms.openai_like")
    base_url, key = gateway
    return tuple(
        openai_like.OpenAILike(
            model=CHAT,
            api_base=base_url,
            api_key=key,
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=8192,
            temperature=0,
            max_tokens=n,
            max_retries=0,
        )
        for n in (SHORT, LONG)
    )


def test_llama_index_chat(llama_llms):
    from llama_index.core.llms import ChatMessage

    answer = llama_llms[0].chat([ChatMessage(role="user", content=HI)])
    assert answer.message.content


def test_llama_index_streaming(llama_llms):
    from llama_index.core.llms import ChatMessage

    chunks = list(llama_llms[0].stream_chat([ChatMessage(role="user", content=HI)]))
    assert len(chunks) > 1
    assert chunks[-1].message.content == "".join(c.delta or "" for c in chunks)


def test_llama_index_tools(llama_llms):
    from llama_index.core.tools import FunctionTool

    llm = llama_llms[1]
    tool = FunctionTool.from_defaults(fn=get_weather)
    answer = llm.chat_with_tools([tool], user_msg=WEATHER_QUESTION, tool_required=True)
    calls = llm.get_tool_calls_from_response(answer, error_on_no_tool_call=True)
    assert [c.tool_name for c in calls] == ["get_weather"]
    check_weather_arguments(calls[0].tool_kwargs)


def test_llama_index_structured_output(llama_llms):
    from llama_index.core.prompts import PromptTemplate

    # a function-calling model: its program forces a call of a tool shaped like City
    city = llama_llms[1].structured_predict(City, PromptTemplate("{text}"), text=CITY_TEXT)
    check_city(city)
