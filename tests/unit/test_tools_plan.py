"""tools/tool_choice/tool messages: validation, the grammar per choice, and the rendering."""

from __future__ import annotations

import json

import pytest

from tokenfactory.errors import InvalidRequestError, UnsupportedSchemaError
from tokenfactory.services.tool_render import example_arguments, template_input
from tokenfactory.services.tools import plan_tools
from tokenfactory.wire.chat import ChatCompletionRequest

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
}


def request(**fields) -> ChatCompletionRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    return ChatCompletionRequest.model_validate(body | fields)


def test_no_tools_no_plan():
    plan = plan_tools(request())
    assert plan.choice == "none" and plan.structured is None and plan.parser() is None


def test_auto_is_text_or_calls_grammar():
    plan = plan_tools(request(tools=[WEATHER, SEARCH]))
    assert plan.choice == "auto"
    assert "<tool_call>" in plan.structured.ebnf
    assert plan.parser() is not None and not plan.parser().bare_call


def test_required_forces_a_call_to_any_tool():
    plan = plan_tools(request(tools=[WEATHER, SEARCH], tool_choice="required"))
    schema = plan.structured.json_schema
    assert [c["properties"]["name"]["const"] for c in schema["anyOf"]] == ["get_weather", "search"]
    assert schema["anyOf"][0]["properties"]["arguments"] == WEATHER["function"]["parameters"]
    assert plan.parser().bare_call


def test_named_forces_that_tool():
    choice = {"type": "function", "function": {"name": "search"}}
    plan = plan_tools(request(tools=[WEATHER, SEARCH], tool_choice=choice))
    schema = plan.structured.json_schema
    assert schema["properties"]["name"] == {"const": "search"}


def test_none_keeps_the_tools_out():
    plan = plan_tools(request(tools=[WEATHER], tool_choice="none"))
    assert plan.structured is None and plan.parser() is None
    messages, _ = template_input(request(tools=[WEATHER], tool_choice="none"), plan, False)
    assert "get_weather" not in json.dumps(messages)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"tool_choice": "auto"}, "'tools' is empty or missing"),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "'nope'",
        ),
        (
            {"tools": [WEATHER | {"function": {"name": "x", "parameters": {"type": "array"}}}]},
            "type 'object'",
        ),
        (
            {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": "x",
                            "parameters": {"type": "object", "properties": {"a": {"type": 5}}},
                        },
                    }
                ]
            },
            "not a valid JSON Schema",
        ),
        ({"tools": [WEATHER, WEATHER]}, "more than one tool"),
        (
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "tool", "tool_call_id": "call_x", "content": "{}"},
                ]
            },
            "tool_call_id 'call_x'",
        ),
        (
            {
                "tools": [WEATHER],
                "tool_choice": "required",
                "response_format": {"type": "json_object"},
            },
            "response_format",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(fields, words):
    with pytest.raises(InvalidRequestError) as info:
        plan_tools(request(**fields))
    assert words in info.value.message
    assert info.value.status_code == 400


def test_unenforceable_parameters_keyword():
    tool = {
        "type": "function",
        "function": {"name": "x", "parameters": {"type": "object", "not": {"required": ["a"]}}},
    }
    with pytest.raises(UnsupportedSchemaError, match=r"'not'.*tool 'x'"):
        plan_tools(request(tools=[tool]))


def test_rendering_puts_tools_calls_and_results_in_the_conversation():
    req = request(
        tools=[WEATHER],
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 22}'},
        ],
    )
    plan = plan_tools(req)
    messages, kwargs = template_input(req, plan, native=False)
    assert kwargs == {}
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith("Be brief.")
    assert '"name": "get_weather"' in messages[0]["content"]
    assert [m["role"] for m in messages[-3:]] == ["user", "assistant", "user"]
    assert messages[-2]["content"] == (
        '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Paris"}}\n</tool_call>'
    )
    assert (
        messages[-1]["content"]
        == '<tool_response>\nget_weather: {"temperature": 22}\n</tool_response>'
    )
    assert all(isinstance(m["content"], str) for m in messages)


def test_native_template_gets_tools_and_hf_shaped_calls():
    req = request(
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ],
    )
    plan = plan_tools(req, native_template=True)
    assert plan.structured is None  # the template's own format: parsed, not constrained
    messages, kwargs = template_input(req, plan, native=True)
    assert kwargs["tools"][0]["function"]["name"] == "get_weather"
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == {}
    assert messages[2] == {
        "role": "tool",
        "content": "sunny",
        "tool_call_id": "c1",
        "name": "get_weather",
    }


def test_example_arguments_fill_required_fields_with_valid_placeholders():
    import jsonschema

    params = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "unit": {"enum": ["c", "f"]},
            "opt": {"type": "string"},
            "inner": {
                "type": "object",
                "properties": {"b": {"type": "boolean"}},
                "required": ["b"],
            },
        },
        "required": ["n", "unit", "inner"],
    }
    example = example_arguments(params)
    assert example == {"n": 1, "unit": "c", "inner": {"b": True}}
    jsonschema.validate(example, params)
