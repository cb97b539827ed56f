"""Structured outputs on the real SmolLM2, on both real engines (xgrammar in the
TransformersEngine, vLLM's structured outputs in the VLLMEngine)."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from tokenfactory.engine.protocol import StructuredSpec
from tokenfactory.errors import UnsupportedSchemaError

from .hf_helpers import chat_prompt, collect, request

pytestmark = pytest.mark.integration

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "city": {"type": "string", "enum": ["Paris", "Tokyo", "Lima"]},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}


def text(tokenizer, tokens: list[int]) -> str:
    return tokenizer.decode(tokens, skip_special_tokens=True)


async def test_json_schema_output_validates(real_engine, real_chat_tokenizer):
    prompt = chat_prompt(real_chat_tokenizer, "Describe a person as JSON.")
    spec = StructuredSpec(json_schema=PERSON)
    tokens, finish = await collect(real_engine, request(prompt, 60, structured=spec))
    assert finish == "stop"
    jsonschema.validate(json.loads(text(real_chat_tokenizer, tokens)), PERSON)


async def test_json_schema_holds_under_sampling_and_in_a_mixed_batch(
    real_engine, real_chat_tokenizer
):
    import asyncio

    prompt = chat_prompt(real_chat_tokenizer, "Describe a person as JSON.")
    spec = StructuredSpec(json_schema=PERSON)
    runs = await asyncio.gather(
        *(collect(real_engine, request(prompt, 60, 0.9, seed, spec)) for seed in range(3)),
        collect(real_engine, request(chat_prompt(real_chat_tokenizer, "Say hi."), 8)),
    )
    for tokens, finish in runs[:3]:
        if finish == "stop":
            jsonschema.validate(json.loads(text(real_chat_tokenizer, tokens)), PERSON)
        else:  # ran out of tokens first: reported as length, never as valid output
            assert finish == "length"
    assert "{" not in text(real_chat_tokenizer, runs[3][0])


async def test_json_object_and_regex(real_engine, real_chat_tokenizer):
    prompt = chat_prompt(real_chat_tokenizer, "Give me a JSON object about cats.")
    tokens, finish = await collect(
        real_engine, request(prompt, 80, structured=StructuredSpec(json_object=True))
    )
    if finish == "stop":
        assert isinstance(json.loads(text(real_chat_tokenizer, tokens)), dict)
    else:
        assert finish == "length" and text(real_chat_tokenizer, tokens).startswith("{")

    phone = StructuredSpec(regex=r"[0-9]{3}-[0-9]{4}")
    prompt = chat_prompt(real_chat_tokenizer, "What is your phone number?")
    tokens, finish = await collect(real_engine, request(prompt, 20, structured=phone))
    assert finish == "stop"
    assert re.fullmatch(r"[0-9]{3}-[0-9]{4}", text(real_chat_tokenizer, tokens))


async def test_truncated_structured_output_finishes_with_length(real_engine, real_chat_tokenizer):
    prompt = chat_prompt(real_chat_tokenizer, "Describe a person as JSON.")
    spec = StructuredSpec(json_schema=PERSON)
    tokens, finish = await collect(real_engine, request(prompt, 3, structured=spec))
    assert (len(tokens), finish) == (3, "length")


async def test_constraints_that_cannot_be_enforced_are_rejected(real_engine, real_chat_tokenizer):
    prompt = chat_prompt(real_chat_tokenizer, "hi")
    bad_type = {"type": "object", "properties": {"a": {"type": "strnig"}}}
    with pytest.raises(UnsupportedSchemaError, match="strnig") as err:
        await collect(real_engine, request(prompt, structured=StructuredSpec(json_schema=bad_type)))
    assert err.value.status_code == 400 and err.value.param == "response_format"
    with pytest.raises(UnsupportedSchemaError, match="Lookbehind"):
        await collect(real_engine, request(prompt, structured=StructuredSpec(regex="(?<=a)b")))
    assert real_engine.health().requests_running == 0
