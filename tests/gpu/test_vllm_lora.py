"""LoRA on vLLM: two adapters and the base model answered in one batch; sleep/wake."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.lora_adapters import make_random_adapter

from .conftest import CHAT_MODEL, gpu_free_bytes

pytestmark = pytest.mark.gpu

PROMPT = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def http(gpu_server):
    headers = {"Authorization": f"Bearer {gpu_server.api_key}"}
    with httpx.Client(base_url=gpu_server.base_url, headers=headers, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def two_adapters(http, chat_model_path, tmp_path_factory):
    """Two adapters made here and registered through ``POST /v1/adapters/import``."""
    root = tmp_path_factory.mktemp("adapters")
    names = ["gpu-test-a", "gpu-test-b"]
    for seed, name in enumerate(names):
        path = make_random_adapter(chat_model_path, root / name, seed=seed + 1)
        imported = http.post(
            "/adapters/import", json={"name": name, "path": str(path), "base_model": CHAT_MODEL}
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["status"] == "succeeded"
    yield names
    for name in names:
        http.delete(f"/adapters/{name}")


def _answer(client, model: str) -> str:
    response = client.chat.completions.create(
        model=model, messages=PROMPT, max_tokens=16, temperature=0
    )
    return response.choices[0].message.content


#: Greedy answers are compared on their first characters (a few tokens): batch composition
#: may change low-order bits of the logits and, many tokens later, a near tie.
PREFIX = 8


def test_two_adapters_and_the_base_in_one_batch(client, two_adapters):
    base_alone = _answer(client, CHAT_MODEL)
    models = [CHAT_MODEL, *two_adapters, CHAT_MODEL, *two_adapters]
    with ThreadPoolExecutor(len(models)) as pool:
        answers = list(pool.map(lambda m: _answer(client, m), models))
    by_model: dict[str, list[str]] = {}
    for model, answer in zip(models, answers, strict=True):
        by_model.setdefault(model, []).append(answer)
    # base rows are untouched by the adapters sharing their batch ...
    for answer in by_model[CHAT_MODEL]:
        assert answer[:PREFIX] == base_alone[:PREFIX], (answer, base_alone)
    # ... and each adapter (random, non-zero weights) changes the answer from the start
    a, b = (by_model[name][0] for name in two_adapters)
    assert a[:PREFIX] != base_alone[:PREFIX] and b[:PREFIX] != base_alone[:PREFIX], (a, b)
    assert a != b


def test_adapters_are_listed_as_loaded(http, two_adapters):
    listed = {a["name"]: a for a in http.get("/adapters").json()["data"]}
    for name in two_adapters:
        assert listed[name]["loaded"] is True
        assert listed[name]["base_model"] == CHAT_MODEL


def test_unknown_adapter_is_a_404(client):
    import openai

    with pytest.raises(openai.NotFoundError):
        _answer(client, "no-such-adapter")


def test_sleep_frees_gpu_memory_and_requests_wait_for_wake(gpu_server, client, two_adapters):
    engine = gpu_server.engine
    before = {m: _answer(client, m) for m in (CHAT_MODEL, two_adapters[0])}
    awake_free = gpu_free_bytes()
    gpu_server.run(engine.sleep(), timeout=120)
    try:
        asleep_free = gpu_free_bytes()
        assert asleep_free - awake_free > 1 << 30, (awake_free, asleep_free)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(_answer, client, CHAT_MODEL)
            time.sleep(2)
            assert not pending.done(), "a request must wait while the engine sleeps"
            gpu_server.run(engine.wake(), timeout=120)
            assert pending.result(timeout=120)[:PREFIX] == before[CHAT_MODEL][:PREFIX]
    finally:
        gpu_server.run(engine.wake(), timeout=120)
    assert gpu_free_bytes() < asleep_free
    # weights and LoRA weights came back intact
    for model, answer in before.items():
        assert _answer(client, model)[:PREFIX] == answer[:PREFIX], model


TRAINING_EXAMPLES = [
    {
        "messages": [
            {"role": "user", "content": f"What is {i} plus {i}?"},
            {"role": "assistant", "content": f"Arr, {i} plus {i} be {2 * i}, matey!"},
        ]
    }
    for i in range(12)
]


def test_engine_sleeps_during_lora_training_and_serves_the_adapter_after(gpu_server, client, http):
    """Training through /v1/adapters on the GPU the engine shares: vLLM sleeps while the
    trainer runs (its memory comes back), then wakes and serves the new adapter by name."""
    name = "gpu-pirate"
    created = http.post(
        "/adapters",
        json={
            "name": name,
            "display_name": "GPU pirate",
            "base_model": CHAT_MODEL,
            "epochs": 3,
            "learning_rate": 0.001,
            "rank": 8,
        },
    )
    assert created.status_code == 200, created.text
    data = "\n".join(json.dumps(e) for e in TRAINING_EXAMPLES).encode()
    uploaded = http.post(
        f"/adapters/{name}/training_data",
        content=data,
        headers={"Content-Type": "application/jsonl"},
    )
    assert uploaded.status_code == 200, uploaded.text
    started = http.post(f"/adapters/{name}/train", json={})
    assert started.status_code == 200, started.text

    saw_sleeping, status = False, None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        health = httpx.get(
            f"{gpu_server.url}/health?api_key={gpu_server.api_key}", timeout=10
        ).json()
        if any(m.get("extra", {}).get("sleeping") for m in health["models"]):
            saw_sleeping = True
        status = http.get(f"/adapters/{name}").json()["status"]
        if status in {"succeeded", "failed", "cancelled"}:
            break
        time.sleep(0.2)
    events = http.get(f"/adapters/{name}/events").json()["data"]
    assert status == "succeeded", events[-5:]
    saw_sleeping = saw_sleeping or any("asleep" in str(e.get("message")) for e in events)
    assert saw_sleeping, "the vLLM engine should sleep while the trainer uses the GPU"
    assert gpu_server.engine.health().ready, "the engine must be awake again"
    question = [{"role": "user", "content": "What is 3 plus 3?"}]

    def reply(model: str) -> str:
        response = client.chat.completions.create(
            model=model, messages=question, max_tokens=16, temperature=0
        )
        return response.choices[0].message.content

    assert reply(name) != reply(CHAT_MODEL)
    http.delete(f"/adapters/{name}")
