"""The SDK's keyword arguments are the wire request models' fields, no more and no fewer.

A field added to (or renamed in) ``tokenfactory/wire`` fails here until the SDK accepts it, so
the SDK cannot drift from the API again (it once lacked ``logprobs`` and ``top_logprobs``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest
from pydantic import BaseModel

from tests.sdk.conftest import Recorder, chat_completion, reply
from tokenfactory.sdk import TokenFactory
from tokenfactory.sdk._request import RequestOptions
from tokenfactory.sdk.resources import _params
from tokenfactory.sdk.resources.adapters import AdapterParams, Adapters, ImportParams
from tokenfactory.sdk.resources.chat import ChatCompletions
from tokenfactory.sdk.resources.completions import Completions
from tokenfactory.sdk.resources.embeddings import Embeddings
from tokenfactory.sdk.resources.fine_tuning import JobParams, Jobs
from tokenfactory.wire import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from tokenfactory.wire.adapters import AdapterCreate, AdapterImport
from tokenfactory.wire.fine_tuning import FineTuningJobCreate

OPTIONS = set(RequestOptions.__annotations__)


def sdk_fields(method: Callable[..., Any], params: Any) -> set[str]:
    """The method's named arguments plus its ``**params`` TypedDict's keys, less call options."""
    named = {
        name
        for name, p in inspect.signature(method).parameters.items()
        if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
    }
    keys = params.__required_keys__ | params.__optional_keys__  # inherited keys included
    return (named | keys) - OPTIONS


CASES = [
    (ChatCompletions.create, _params.ChatParams, ChatCompletionRequest),
    (Completions.create, _params.CompletionParams, CompletionRequest),
    (Embeddings.create, _params.EmbeddingParams, EmbeddingRequest),
    (Adapters.create, AdapterParams, AdapterCreate),
    (Adapters.import_folder, ImportParams, AdapterImport),
    (Jobs.create, JobParams, FineTuningJobCreate),
]


@pytest.mark.parametrize(("method", "params", "wire"), CASES, ids=lambda c: c.__qualname__)
def test_every_wire_field_is_an_sdk_argument_and_back(method, params, wire: type[BaseModel]):
    wire_fields = {field.alias or name for name, field in wire.model_fields.items()}
    sdk = sdk_fields(method, params)
    assert wire_fields - sdk == set(), "the wire has fields the SDK does not accept"
    assert sdk - wire_fields == set(), "the SDK accepts fields the wire does not know"


def literal_values(annotation: Any) -> set[Any]:
    """Every value of the ``Literal[...]`` parts of an annotation."""
    if get_origin(annotation) is Literal:
        return set(get_args(annotation))
    return {value for arg in get_args(annotation) for value in literal_values(arg)}


@pytest.mark.parametrize(("method", "params", "wire"), CASES, ids=lambda c: c.__qualname__)
def test_literal_choices_match_the_wire(method, params, wire: type[BaseModel]):
    hints = get_type_hints(params)
    checked = 0
    for name, field in wire.model_fields.items():
        allowed = literal_values(field.annotation)
        if allowed and name in hints:
            assert literal_values(hints[name]) == allowed, name
            checked += 1
    assert checked or not any(literal_values(f.annotation) for f in wire.model_fields.values())


def test_the_logprob_fields_reach_the_wire(make_client):
    handler = Recorder(reply(200, chat_completion()))
    client: TokenFactory = make_client(handler)
    client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], logprobs=True, top_logprobs=2
    )
    body = handler.body(0)
    assert (body["logprobs"], body["top_logprobs"]) == (True, 2)
