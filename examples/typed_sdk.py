"""Every SDK resource, sync and async, as a type checker sees it.

    python examples/typed_sdk.py            # runs the tour against tf.serve() (or your gateway)
    python examples/typed_sdk.py --train    # also fine-tunes a small LoRA adapter (minutes)
    mypy --strict examples/typed_sdk.py     # what tests/sdk/test_typing.py runs

Each call's result is a typed model: ``assert_type`` (a no-op at run time) makes mypy prove it,
e.g. that ``create(stream=True)`` is a ``Stream[ChatCompletionChunk]`` and ``create()`` a
``ChatCompletion``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
from typing_extensions import assert_type

import tokenfactory as tf
from tokenfactory.sdk import AsyncStream, Stream
from tokenfactory.sdk.resources.adapters import (
    Adapter,
    AdapterEventList,
    AdapterList,
    DeletedAdapter,
)
from tokenfactory.sdk.resources.batches import Batch, BatchList, BatchRequestLine, BatchResultLine
from tokenfactory.sdk.resources.billing import ModelPrice, ModelPriceList, MonthlyCap
from tokenfactory.sdk.resources.files import FileDeleted, FileList, FileObject
from tokenfactory.sdk.resources.fine_tuning import (
    FineTuningJob,
    FineTuningJobCheckpointList,
    FineTuningJobEventList,
    FineTuningJobList,
)
from tokenfactory.sdk.resources.responses import (
    InputItemList,
    ResponseDeleted,
    ResponseStreamEvent,
)
from tokenfactory.sdk.resources.tokenizer import DetokenizeResponse, TokenizeResponse
from tokenfactory.sdk.resources.usage import UsageReport, UsageTimeseries
from tokenfactory.sdk.resources.webhooks import (
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointDeleted,
    WebhookEndpointList,
    WebhookEvent,
)
from tokenfactory.sdk.resources.workspaces import (
    APIKeyList,
    CreatedAPIKey,
    RevokedAPIKey,
    Workspace,
    WorkspaceList,
)
from tokenfactory.sdk.types import (
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    EmbeddingResponse,
    Model,
    ModelList,
    Response,
)

CHAT = "HuggingFaceTB/SmolLM2-135M-Instruct"
EMBED = "sentence-transformers/all-MiniLM-L6-v2"
ASK = [{"role": "user", "content": "Name a colour."}]


def chat(client: tf.TokenFactory) -> str:
    answer = client.chat.completions.create(model=CHAT, messages=ASK, max_tokens=8)
    assert_type(answer, ChatCompletion)
    with client.chat.completions.create(
        model=CHAT, messages=ASK, max_tokens=8, stream=True, logprobs=True, top_logprobs=2
    ) as stream:
        assert_type(stream, Stream[ChatCompletionChunk])
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    return f"{answer.choices[0].message.content!r} / streamed {streamed!r}"


def responses(client: tf.TokenFactory) -> str:
    first = client.responses.create(model=CHAT, input="Name a colour.", max_output_tokens=8)
    assert_type(first, Response)
    with client.responses.create(
        model=CHAT, input="And another?", previous_response_id=first.id, stream=True
    ) as events:
        assert_type(events, Stream[ResponseStreamEvent])
        kinds = [event.type for event in events]
    assert_type(client.responses.retrieve(first.id), Response)
    assert_type(client.responses.input_items(first.id, limit=5), InputItemList)
    assert_type(client.responses.delete(first.id), ResponseDeleted)
    return f"{first.output_text!r}, then {len(kinds)} events"


def completions(client: tf.TokenFactory) -> str:
    done = client.completions.create(model=CHAT, prompt="Once upon a time", max_tokens=8)
    assert_type(done, Completion)
    pieces = client.completions.create(model=CHAT, prompt="Roses are", max_tokens=8, stream=True)
    assert_type(pieces, Stream[Completion])
    return done.choices[0].text + " / " + "".join(p.choices[0].text for p in pieces if p.choices)


def embeddings(client: tf.TokenFactory) -> tuple[int, ...]:
    vectors = client.embeddings.create(model=EMBED, input=["red", "green"])
    assert_type(vectors, EmbeddingResponse)
    matrix: np.ndarray = vectors.to_numpy()
    return matrix.shape


def tokenizer(client: tf.TokenFactory) -> str:
    counted = client.tokenize(CHAT, messages=ASK, return_token_strs=True)
    assert_type(counted, TokenizeResponse)
    text = client.detokenize(CHAT, counted.tokens)
    assert_type(text, DetokenizeResponse)
    prices = client.prices()
    assert_type(prices, dict[str, dict[str, float]])
    return f"{counted.count} tokens, batch_24h input ${prices['batch_24h']['input']}/M"


def models(client: tf.TokenFactory) -> list[str]:
    catalog = client.models.list()
    assert_type(catalog, ModelList)
    model = client.models.retrieve(CHAT)
    assert_type(model, Model)
    assert_type(client.models.load(CHAT), Model)
    return [m.id for m in catalog.data]


def batches(client: tf.TokenFactory) -> pd.DataFrame:
    body = {"model": CHAT, "messages": ASK, "max_tokens": 4}
    lines = [{"custom_id": f"q{i}", "body": body} for i in range(2)]
    job = client.batches.create(lines, sla="1h")
    assert_type(job, Batch)
    job = job.wait(poll_interval=0.2, progress=False)
    assert_type(client.batches.retrieve(job.id), Batch)
    assert_type(client.batches.list(limit=5), BatchList)
    results = client.batches.results(job.id)
    assert_type(results, Iterator[BatchResultLine])
    assert_type(client.batches.input(job.id), list[BatchRequestLine])
    for line in results:
        status = line.response.status_code if line.response else None
        print(f"  {line.custom_id}: {status}")
    return client.batches.to_pandas(job.id)


def adapters(client: tf.TokenFactory, *, train: bool) -> list[str]:
    adapter = client.adapters.create("typed-example-v1", epochs=1, rank=8)
    assert_type(adapter, Adapter)
    examples = [{"prompt": f"Say {i}.", "completion": f"{i}!"} for i in range(10)]
    assert_type(client.adapters.upload_training_data(adapter, examples), Adapter)
    if train:
        client.adapters.train(adapter)
        adapter = client.adapters.wait(adapter, progress=False)
        assert_type(client.adapters.events(adapter), AdapterEventList)
    listed = client.adapters.list()
    assert_type(listed, AdapterList)
    assert_type(client.adapters.retrieve(adapter), Adapter)
    gone = client.adapters.delete(adapter)
    assert_type(gone, DeletedAdapter)
    return [a.name for a in listed.data]


def admin(client: tf.TokenFactory) -> str:
    """The control plane (an admin key: the key of whoever started the gateway is one)."""
    try:
        ws = client.admin.workspaces.create("typed-example", tier="standard", balance_usd=1.0)
    except tf.BadRequestError:  # made by an earlier run on the same data directory
        ws = client.admin.workspaces.retrieve("typed-example")
    assert_type(ws, Workspace)
    assert_type(client.admin.workspaces.top_up(ws.name, 2.5), Workspace)
    assert_type(client.admin.workspaces.list(), WorkspaceList)
    key = client.admin.keys.create(ws.name, name="example")
    assert_type(key, CreatedAPIKey)
    assert_type(client.admin.keys.list(ws.name), APIKeyList)
    price = client.admin.prices.set(CHAT, input=0.2, output=0.4)
    assert_type(price, ModelPrice)
    assert_type(client.admin.prices.list(), ModelPriceList)
    cap = client.admin.monthly_caps.set(ws.name, 100_000)
    assert_type(cap, MonthlyCap | None)
    member = client.with_options(api_key=key.key)
    member.chat.completions.create(model=CHAT, messages=ASK, max_tokens=4, user="ann")
    report = member.usage.retrieve(group_by=["model", "user"])
    assert_type(report, UsageReport)
    assert_type(member.usage.timeseries(bucket="minute"), UsageTimeseries)
    receiver = tf.webhooks.Receiver()
    endpoint = client.admin.webhooks.create(ws.name, url=receiver.url)
    assert_type(endpoint, WebhookEndpoint)
    receiver.secret = endpoint.secret
    assert_type(client.admin.webhooks.test(endpoint.id), WebhookEvent)
    receiver.wait_for("webhook.test")
    assert_type(client.admin.webhooks.deliveries(endpoint.id), WebhookDeliveryList)
    assert_type(client.admin.webhooks.list(ws.name), WebhookEndpointList)
    assert_type(client.admin.webhooks.delete(endpoint.id), WebhookEndpointDeleted)
    assert_type(client.admin.keys.revoke(key.id), RevokedAPIKey)
    client.admin.prices.delete(CHAT)
    return f"{ws.name}: {report.total.total_tokens} tokens, ${report.total.cost_usd:.8f}"


def fine_tuning(client: tf.TokenFactory, *, train: bool) -> str:
    examples = "".join(
        f'{{"messages": [{{"role": "user", "content": "Say {i}."}}, '
        f'{{"role": "assistant", "content": "{i}!"}}]}}\n'
        for i in range(10)
    )
    training = client.files.create(file=("say.jsonl", examples.encode()), purpose="fine-tune")
    assert_type(training, FileObject)
    assert_type(client.files.list(purpose="fine-tune", limit=5), FileList)
    assert_type(client.files.content(training.id), bytes)
    if train:
        job = client.fine_tuning.jobs.create(
            model=CHAT, training_file=training.id, hyperparameters={"n_epochs": 1}
        )
        assert_type(job, FineTuningJob)
        job = client.fine_tuning.jobs.wait(job.id)
        assert_type(client.fine_tuning.jobs.list_events(job.id), FineTuningJobEventList)
        assert_type(client.fine_tuning.jobs.list_checkpoints(job.id), FineTuningJobCheckpointList)
    assert_type(client.fine_tuning.jobs.list(limit=5), FineTuningJobList)
    assert_type(client.files.delete(training.id), FileDeleted)
    return training.id


async def async_tour(client: tf.AsyncTokenFactory) -> None:
    answer = await client.chat.completions.create(model=CHAT, messages=ASK, max_tokens=8)
    assert_type(answer, ChatCompletion)
    stream = await client.chat.completions.create(
        model=CHAT, messages=ASK, max_tokens=8, stream=True
    )
    assert_type(stream, AsyncStream[ChatCompletionChunk])
    async with stream:
        async for chunk in stream:
            assert_type(chunk, ChatCompletionChunk)
    pieces = await client.completions.create(model=CHAT, prompt="Hi", max_tokens=4, stream=True)
    assert_type(pieces, AsyncStream[Completion])
    async for piece in pieces:
        assert_type(piece, Completion)
    done = await client.completions.create(model=CHAT, prompt="Hi", max_tokens=4)
    assert_type(done, Completion)
    assert_type(await client.embeddings.create(model=EMBED, input="hi"), EmbeddingResponse)
    reply = await client.responses.create(model=CHAT, input="Hi", max_output_tokens=4)
    assert_type(reply, Response)
    events = await client.responses.create(model=CHAT, input="Hi", stream=True)
    assert_type(events, AsyncStream[ResponseStreamEvent])
    async with events:
        async for event in events:
            assert_type(event, ResponseStreamEvent)
    assert_type(await client.responses.delete(reply.id), ResponseDeleted)
    assert_type(await client.models.list(), ModelList)
    assert_type(await client.models.retrieve(CHAT), Model)
    lines = [{"custom_id": "a0", "body": {"model": CHAT, "messages": ASK, "max_tokens": 4}}]
    job = await client.batches.create(lines, sla="1h")
    job = await client.batches.wait(job.id, poll_interval=0.2)
    assert_type(job, Batch)
    assert_type(await client.batches.results(job.id), list[BatchResultLine])
    assert_type(await client.batches.to_pandas(job.id), pd.DataFrame)
    assert_type(await client.adapters.list(), AdapterList)
    assert_type(await client.tokenize(CHAT, "hello"), TokenizeResponse)
    assert_type(await client.prices(), dict[str, dict[str, float]])
    assert_type(await client.usage.retrieve(group_by="model"), UsageReport)
    assert_type(await client.admin.workspaces.list(), WorkspaceList)
    assert_type(await client.admin.monthly_caps.retrieve("default"), MonthlyCap | None)
    assert_type(await client.admin.webhooks.list("default"), WebhookEndpointList)
    assert_type(await client.fine_tuning.jobs.list(), FineTuningJobList)
    assert_type(await client.files.list(), FileList)
    print("async: every call answered", answer.choices[0].message.content)


def main(train: bool) -> None:
    if not os.environ.get("TOKENFACTORY_BASE_URL"):
        tf.serve()
    with tf.TokenFactory() as client:
        print("chat:", chat(client))
        print("responses:", responses(client))
        print("completions:", completions(client))
        print("embeddings:", embeddings(client))
        print("tokenizer:", tokenizer(client))
        print("models:", models(client))
        print("batch:\n", batches(client)[["custom_id", "response"]])
        print("adapters:", adapters(client, train=train))
        print("admin:", admin(client))
        print("fine-tuning file:", fine_tuning(client, train=train))
    asyncio.run(_run_async())


async def _run_async() -> None:
    async with tf.AsyncTokenFactory() as client:
        await async_tour(client)


if __name__ == "__main__":
    main(train="--train" in sys.argv)
