"""The SDK's control-plane resources against a real HTTP gateway over the fake engine: admin
workspaces, keys, wallets, per-model prices, monthly caps, webhooks (delivered to a real
``tf.webhooks.Receiver``), usage by model and user, files and fine-tuning jobs; sync and async."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.widgets.live import live_gateway
from tokenfactory.sdk import (
    AsyncTokenFactory,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TokenFactory,
)
from tokenfactory.sdk.resources.webhooks import EVENT_TYPES
from tokenfactory.webhooks import Receiver

MODEL = "test/chat"
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_gateway(tmp_path_factory.mktemp("control-plane")) as gateway:
        yield gateway


@pytest.fixture
def admin(live):
    with TokenFactory(base_url=live.base_url, api_key=live.api_key, max_retries=0) as client:
        yield client


def member(live, admin: TokenFactory, workspace: str, **create) -> TokenFactory:
    admin.admin.workspaces.create(workspace, **create)
    key = admin.admin.keys.create(workspace, name="member")
    return TokenFactory(base_url=live.base_url, api_key=key.key, max_retries=0)


def test_workspaces_keys_and_wallets(live, admin):
    ws = admin.admin.workspaces.create("carol", tier="free", balance_usd=0.5)
    assert (ws.name, ws.tier, ws.balance_usd) == ("carol", "free", 0.5)
    assert "carol" in [w.name for w in admin.admin.workspaces.list()]
    assert admin.admin.workspaces.top_up("carol", 1.25).balance_usd == pytest.approx(1.75)
    assert admin.admin.workspaces.update("carol", tier="pro").tier == "pro"
    assert admin.admin.workspaces.retrieve("carol").balance_micros == 1_750_000
    with pytest.raises(BadRequestError, match="amount_usd"):
        admin.admin.workspaces.top_up("carol", -1)
    with pytest.raises(NotFoundError):
        admin.admin.workspaces.top_up("nobody", 1)

    created = admin.admin.keys.create("carol", name="laptop")
    assert created.key.startswith("tf-") and created.key.startswith(created.prefix)
    (listed,) = admin.admin.keys.list("carol")
    assert listed.id == created.id and "key" not in listed.model_dump()
    carol = TokenFactory(base_url=live.base_url, api_key=created.key, max_retries=0)
    with pytest.raises(PermissionDeniedError):  # not an admin key
        carol.admin.workspaces.list()
    assert carol.models.list().data
    assert admin.admin.keys.revoke(created.id).revoked
    with pytest.raises(AuthenticationError):
        carol.models.list()


def test_a_price_per_model_bills_the_next_request(live, admin):
    dave = member(live, admin, "dave", balance_usd=1.0)
    price = admin.admin.prices.set(MODEL, input=2.0, output=4.0)
    assert (price.model, price.input, price.output) == (MODEL, 2.0, 4.0)
    listed = admin.admin.prices.list().price(MODEL)
    assert listed is not None and listed.model_dump() == price.model_dump()
    assert dave.prices(model=MODEL)["realtime"] == {"input": 2.0, "output": 4.0}
    assert dave.prices(model=MODEL)["batch_24h"]["input"] < 2.0  # the tier discount on top
    answer = dave.chat.completions.create(model=MODEL, messages=HI, max_tokens=8)
    assert answer.usage is not None
    usage = answer.usage
    expected = (usage.prompt_tokens * 2.0 + usage.completion_tokens * 4.0) / 1e6
    report = dave.usage.retrieve(group_by="model")
    assert report.total.cost_usd == pytest.approx(expected)
    assert report.balance_usd == pytest.approx(1.0 - expected)
    assert admin.admin.prices.delete(MODEL).price(MODEL) is None


def test_a_monthly_cap_refuses_requests_past_it(live, admin):
    erin = member(live, admin, "erin")
    assert admin.admin.monthly_caps.retrieve("erin") is None
    cap = admin.admin.monthly_caps.set("erin", 40)
    assert cap is not None and (cap.tokens, cap.used, cap.remaining) == (40, 0, 40)
    erin.chat.completions.create(model=MODEL, messages=HI, max_tokens=8)
    cap = admin.admin.monthly_caps.retrieve("erin")
    assert cap is not None and 0 < cap.used < 40
    assert erin.usage.retrieve().monthly_cap == cap  # plain wire models compare by value
    with pytest.raises(RateLimitError) as refused:
        erin.chat.completions.create(model=MODEL, messages=HI, max_tokens=40)
    assert refused.value.code == "monthly_cap_exceeded"
    assert refused.value.response.headers["x-should-retry"] == "false"  # not before the month
    assert int(refused.value.response.headers["retry-after"]) > 0
    assert admin.admin.monthly_caps.set("erin", None) is None
    erin.chat.completions.create(model=MODEL, messages=HI, max_tokens=40)


def test_usage_groups_by_model_and_user(live, admin):
    frank = member(live, admin, "frank")
    for user in ("ann", "ann", "ben"):
        frank.chat.completions.create(model=MODEL, messages=HI, max_tokens=4, user=user)
    frame = frank.usage.retrieve(group_by=["model", "user"]).to_pandas()
    assert list(frame.columns[:2]) == ["model", "user"]
    assert dict(zip(frame["user"], frame["requests"], strict=True)) == {"ann": 2, "ben": 1}
    only_ben = admin.admin.workspaces.usage("frank", group_by="user", user="ben")
    assert [row.model_dump()["user"] for row in only_ben.data] == ["ben"]
    series = frank.usage.timeseries(bucket="minute")
    assert sum(p.requests for p in series.data) == 3
    with pytest.raises(BadRequestError, match="group_by"):
        frank.usage.retrieve(group_by="colour")  # type: ignore[arg-type]


def test_webhooks_register_test_deliver_and_log(live, admin):
    admin.admin.workspaces.create("gina")
    receiver = Receiver()
    endpoint = admin.admin.webhooks.create(
        "gina", url=receiver.url, events=["batch.completed"], description="notebook"
    )
    assert endpoint.secret.startswith("whsec_") and endpoint.events == ["batch.completed"]
    receiver.secret = endpoint.secret
    assert [e.id for e in admin.admin.webhooks.list("gina")] == [endpoint.id]
    event = admin.admin.webhooks.test(endpoint.id)
    assert event.type == "webhook.test"
    received = receiver.wait_for("webhook.test", timeout=20)
    assert received["id"] == event.id  # signature checked by the receiver
    deadline = time.monotonic() + 20  # the receiver answered; the log is written after that
    while (log := admin.admin.webhooks.deliveries(endpoint.id)).data[0].status == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (delivery,) = log
    assert (delivery.event_id, delivery.status, delivery.attempts) == (event.id, "delivered", 1)
    assert delivery.attempt_log[0].status_code == 204  # the Receiver answers 204
    with pytest.raises(BadRequestError, match="Unknown webhook event"):
        admin.admin.webhooks.create("gina", url=receiver.url, events=["batch.done"])
    assert admin.admin.webhooks.delete(endpoint.id).deleted
    assert len(admin.admin.webhooks.list("gina")) == 0
    assert set(EVENT_TYPES) == set(admin.admin.webhooks.create("gina", url=receiver.url).events)


def example(i: int) -> dict:
    return {
        "messages": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    }


def test_files_and_fine_tuning_jobs(live, admin):
    data = "".join(json.dumps(example(i)) + "\n" for i in range(12)).encode()
    with pytest.raises(BadRequestError, match="line"):
        admin.files.create(file=("bad.jsonl", b'{"messages": []}\n'), purpose="fine-tune")
    training = admin.files.create(file=("train.jsonl", data), purpose="fine-tune")
    assert (training.purpose, training.bytes) == ("fine-tune", len(data))
    assert admin.files.retrieve(training.id).filename == "train.jsonl"
    assert admin.files.content(training.id) == data
    assert [f.id for f in admin.files.list(purpose="fine-tune", limit=1)] == [training.id]

    job = admin.fine_tuning.jobs.create(
        model=MODEL, training_file=training.id, suffix="sdk", hyperparameters={"n_epochs": 1}
    )
    assert job.id.startswith("ftjob-") and job.hyperparameters.n_epochs == 1
    assert [j.id for j in admin.fine_tuning.jobs.list(limit=1)] == [job.id]
    # the fake engine's model has no weights to train: the job ends failed, saying why
    done = admin.fine_tuning.jobs.wait(job.id, timeout=60, poll_interval=0.1)
    assert done.status == "failed" and done.error is not None
    events = admin.fine_tuning.jobs.list_events(job.id)
    assert len(events) and "message" in events.to_pandas().columns
    assert len(admin.fine_tuning.jobs.list_checkpoints(job.id)) == 0
    with pytest.raises(BadRequestError):
        admin.fine_tuning.jobs.cancel(job.id)
    with pytest.raises(NotFoundError):
        admin.fine_tuning.jobs.retrieve("ftjob-nope")
    assert admin.files.delete(training.id).deleted
    with pytest.raises(NotFoundError):
        admin.files.retrieve(training.id)


def test_the_async_client_has_the_same_resources(live):
    async def tour() -> None:
        async with AsyncTokenFactory(base_url=live.base_url, api_key=live.api_key) as client:
            ws = await client.admin.workspaces.create("hana", balance_usd=1)
            assert (await client.admin.workspaces.top_up(ws.name, 2)).balance_usd == 3
            key = await client.admin.keys.create("hana")
            assert [k.id for k in await client.admin.keys.list("hana")] == [key.id]
            assert (await client.admin.monthly_caps.set("hana", 10)) is not None
            assert (await client.admin.monthly_caps.retrieve("hana")).tokens == 10  # type: ignore[union-attr]
            await client.admin.prices.set(MODEL, input=1, output=1)
            assert (await client.admin.prices.list()).price(MODEL) is not None
            assert len(await client.admin.webhooks.list("hana")) == 0
            assert (await client.usage.retrieve(group_by="user")).group_by == ["user"]
            assert len(await client.fine_tuning.jobs.list()) >= 0
            assert len(await client.files.list()) >= 0
            assert (await client.prices(model=MODEL))["realtime"]["input"] == 1
            await client.admin.prices.delete(MODEL)

    asyncio.run(tour())
