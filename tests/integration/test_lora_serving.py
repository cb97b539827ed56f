"""A real short training run on the default model, served from the running server.

Two adapters (each answering in its own marked style) are trained once per session through
the SDK; the tests then check the loss fell, the adapters change held-out answers where the
base model never does, hot loading, and base + both adapters served together.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.lora_data import HELD_OUT, styled
from tokenfactory.config import DEFAULT_CHAT_MODEL

pytestmark = pytest.mark.integration

MARKERS = {"pirate-v1": "Arr!", "robot-v1": "BEEP BOOP."}


@pytest.fixture(scope="module")
def server(engine_server):
    """The session's server on each real engine in turn: training runs beside it, and the
    engine serves the adapters it produced without a restart."""
    return engine_server


@pytest.fixture(scope="module")
def sdk(server):
    from tokenfactory.sdk import TokenFactory

    with TokenFactory(base_url=server.base_url, api_key=server.api_key) as client:
        yield client


@pytest.fixture(scope="module")
def trained(server, sdk):
    """Both adapters trained (queued one after the other) while the server keeps serving."""
    started_at = server.core.started_at
    for name, marker in MARKERS.items():
        sdk.adapters.create(name, epochs=3, learning_rate=0.001, rank=16)
        data = styled(marker)
        sdk.adapters.upload_training_data(name, data)
        sdk.adapters.upload_validation_data(name, data[:3])
        sdk.adapters.train(name)
    # the gateway answers while training runs
    reply = sdk.chat.completions.create(
        model=DEFAULT_CHAT_MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=4
    )
    assert reply.choices[0].message.content is not None
    done = {name: sdk.adapters.wait(name, timeout=900, progress=False) for name in MARKERS}
    for adapter in done.values():
        assert adapter.status == "succeeded", adapter.error
    assert server.core.started_at == started_at  # no restart
    return done


def ask(sdk, model: str, prompt: str) -> str:
    response = sdk.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        max_tokens=16,
        temperature=0,
    )
    assert response.model == model
    return response.choices[0].message.content or ""


def test_loss_falls_and_every_step_is_reported(sdk, trained):
    events = sdk.adapters.events("pirate-v1").data
    losses = [e.loss for e in events if e.type == "loss"]
    adapter = trained["pirate-v1"]
    assert len(losses) == adapter.progress.total_steps == 9
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3
    validation = [e.validation_loss for e in events if e.type == "epoch"]
    assert len(validation) == 3 and validation[-1] < validation[0]


def test_adapters_are_hot_loaded_and_listed_with_their_parent(server, sdk, trained):
    models = {m.id: m for m in sdk.models.list().data}
    for name, adapter in trained.items():
        assert adapter.loaded
        assert models[name].parent == DEFAULT_CHAT_MODEL
        assert server.core.engine.adapters()[adapter.id] == DEFAULT_CHAT_MODEL
    assert set(MARKERS) <= set(models[DEFAULT_CHAT_MODEL].adapters)


def test_adapters_change_held_out_answers(sdk, trained):
    from tokenfactory.widgets.compare import compare_adapter

    df = compare_adapter("pirate-v1", HELD_OUT, client=sdk, max_tokens=16)
    assert list(df.columns) == ["prompt", "base", "adapter"]
    assert df.attrs["base_model"] == DEFAULT_CHAT_MODEL
    assert not df["base"].str.contains("Arr").any()
    assert df["adapter"].str.startswith("Arr!").sum() >= 2, df["adapter"].tolist()


def test_base_and_two_adapters_served_together(server, sdk, trained):
    jobs = [(model, prompt) for prompt in HELD_OUT for model in (DEFAULT_CHAT_MODEL, *MARKERS)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        answers = list(pool.map(lambda job: ask(sdk, *job), jobs))
    by_model: dict[str, list[str]] = {}
    for (model, _), answer in zip(jobs, answers, strict=True):
        by_model.setdefault(model, []).append(answer)
    for name, marker in MARKERS.items():
        assert sum(a.startswith(marker) for a in by_model[name]) >= 2, by_model[name]
        other = next(m for n, m in MARKERS.items() if n != name)
        assert not any(other in a for a in by_model[name])
    assert not any(m in a for a in by_model[DEFAULT_CHAT_MODEL] for m in ("Arr", "BEEP")), by_model[
        DEFAULT_CHAT_MODEL
    ]


def test_the_openai_client_calls_an_adapter(server, trained):
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key=server.api_key)
    response = client.chat.completions.create(
        model="robot-v1",
        messages=[{"role": "user", "content": HELD_OUT[0]}],
        max_tokens=16,
        temperature=0,
    )
    assert response.model == "robot-v1"
    assert response.choices[0].message.content.startswith("BEEP")


def test_trained_adapters_follow_their_base_through_unload_and_load(server, sdk, trained):
    """Last in this module (it reloads the base): Unload of the base takes the trained
    adapters away from /v1/models and /v1/adapters; Load serves them again, same answers."""
    from tokenfactory.sdk import TokenFactory

    workspace = server.core.keys.authenticate(server.api_key).workspace.name
    _, admin_key = server.core.keys.create_key(workspace, name="reload", is_admin=True)
    before = ask(sdk, "pirate-v1", HELD_OUT[0])
    with TokenFactory(base_url=server.base_url, api_key=admin_key) as admin:
        admin.models.unload(DEFAULT_CHAT_MODEL)
        ids = {m.id for m in sdk.models.list().data}
        assert not set(MARKERS) & ids
        assert not any(sdk.adapters.retrieve(name).loaded for name in MARKERS)
        assert server.core.engine.adapters() == {}
        admin.models.load(DEFAULT_CHAT_MODEL)
    models = {m.id: m for m in sdk.models.list().data}
    assert set(MARKERS) <= set(models[DEFAULT_CHAT_MODEL].adapters)
    for name in MARKERS:
        assert models[name].parent == DEFAULT_CHAT_MODEL
        assert sdk.adapters.retrieve(name).loaded
    assert ask(sdk, "pirate-v1", HELD_OUT[0]) == before
