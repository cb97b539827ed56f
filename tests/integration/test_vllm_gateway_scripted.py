"""The gateway on VLLMEngine, end to end over HTTP, with vLLM's engine scripted.

``tf.serve(engine="vllm")`` runs for real (model files, tokenizers, the engine's load path,
routes, services, adapters API); only ``AsyncLLM`` is a scripted stand-in speaking vLLM's real
classes (``tests/vllm_scripted.py``). So this checks how our engine plugs into the gateway
without a GPU, wherever vLLM is importable; ``tests/gpu/`` checks the real thing.
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("vllm", reason="vllm is not installed")

from tests.vllm_scripted import ScriptedAsyncLLM
from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.engine.vllm import engine as vllm_engine
from tokenfactory.engine.vllm import runtime as vllm_runtime

pytestmark = pytest.mark.integration

BASE_REPLY = "Hello there!"
ADAPTER_REPLY = "Ahoy matey!"
JSON_REPLY = '{"a": 1}'


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    """A running tf.serve(engine="vllm") whose AsyncLLM instances are scripted."""
    from transformers import AutoTokenizer

    import tokenfactory as tf

    llms: dict[str, ScriptedAsyncLLM] = {}

    def build(kwargs, user_keys=frozenset()):
        tokenizer = AutoTokenizer.from_pretrained(kwargs["tokenizer"])

        def reply(params, lora):
            if params.structured_outputs is not None:
                text = JSON_REPLY
            else:
                text = ADAPTER_REPLY if lora is not None else BASE_REPLY
            return [*tokenizer.encode(text, add_special_tokens=False), tokenizer.eos_token_id]

        llms[kwargs["served_model_name"]] = ScriptedAsyncLLM(reply)
        return llms[kwargs["served_model_name"]]

    patch = pytest.MonkeyPatch()
    patch.setattr(vllm_runtime, "build_async_llm", build)
    patch.setattr(vllm_engine, "available", lambda: True)
    patch.setenv("TOKENFACTORY_HOME", str(tmp_path_factory.mktemp("scripted-home")))
    handle = tf.serve(engine="vllm", timeout=300, new=True)
    try:
        yield handle, llms
    finally:
        handle.stop()
        patch.undo()
    assert all(llm.shut for llm in llms.values()), "stop() must shut every vLLM instance down"


@pytest.fixture(scope="module")
def client(scripted):
    from openai import OpenAI

    handle, _ = scripted
    return OpenAI(base_url=handle.base_url, api_key=handle.api_key, max_retries=0)


def test_the_gateway_serves_on_the_vllm_engine(scripted):
    import httpx

    handle, llms = scripted
    assert handle.engine.name == "vllm"
    assert set(llms) == {DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL}
    body = httpx.get(f"{handle.url}/health?api_key={handle.api_key}", timeout=10).json()
    assert body["engine"] == "vllm" and body["ready"] is True
    assert {m["id"]: m["status"] for m in body["models"]} == {
        DEFAULT_CHAT_MODEL: "loaded",
        DEFAULT_EMBEDDING_MODEL: "loaded",
    }


def test_chat_detokenises_vllm_token_ids(client, scripted):
    _, llms = scripted
    response = client.chat.completions.create(
        model=DEFAULT_CHAT_MODEL,
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=32,
        seed=5,
    )
    choice = response.choices[0]
    assert choice.message.content == BASE_REPLY
    assert choice.finish_reason == "stop"
    call = llms[DEFAULT_CHAT_MODEL].calls[-1]
    assert response.usage.prompt_tokens == len(call["prompt"]["prompt_token_ids"])
    assert call["params"].seed == 5 and call["params"].max_tokens == 32
    assert call["priority"] == 0


def test_streaming_and_length(client):
    pieces = [
        chunk.choices[0].delta.content
        for chunk in client.chat.completions.create(
            model=DEFAULT_CHAT_MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        if chunk.choices and chunk.choices[0].delta.content
    ]
    assert "".join(pieces) == BASE_REPLY
    short = client.chat.completions.create(
        model=DEFAULT_CHAT_MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=2
    )
    assert short.choices[0].finish_reason == "length"
    assert short.usage.completion_tokens == 2


def test_logprobs_are_asked_of_vllm_natively_and_returned(client, scripted):
    _, llms = scripted
    response = client.chat.completions.create(
        model=DEFAULT_CHAT_MODEL,
        messages=[{"role": "user", "content": "Hi"}],
        logprobs=True,
        top_logprobs=2,
    )
    assert llms[DEFAULT_CHAT_MODEL].calls[-1]["params"].logprobs == 2
    content = response.choices[0].logprobs.content
    assert "".join(t.token for t in content) == response.choices[0].message.content == BASE_REPLY
    assert {t.logprob for t in content} == {-0.25}
    assert all([a.logprob for a in t.top_logprobs] == [-0.25, -3.0] for t in content)
    plain = client.chat.completions.create(
        model=DEFAULT_CHAT_MODEL, messages=[{"role": "user", "content": "Hi"}]
    )
    assert llms[DEFAULT_CHAT_MODEL].calls[-1]["params"].logprobs is None
    assert plain.choices[0].logprobs is None


def test_json_schema_reaches_vllm_as_structured_outputs(client, scripted):
    _, llms = scripted
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    response = client.chat.completions.create(
        model=DEFAULT_CHAT_MODEL,
        messages=[{"role": "user", "content": "JSON please"}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )
    assert json.loads(response.choices[0].message.content) == {"a": 1}
    structured = llms[DEFAULT_CHAT_MODEL].calls[-1]["params"].structured_outputs
    assert structured is not None and structured.json["properties"] == schema["properties"]


def test_embeddings_come_back_normalised(client):
    response = client.embeddings.create(model=DEFAULT_EMBEDDING_MODEL, input=["ab", "abcdef"])
    for item in response.data:
        assert sum(x * x for x in item.embedding) == pytest.approx(1.0)
    assert response.usage.prompt_tokens > 0


def peft_folder(folder):
    """A PEFT LoRA folder as the import reads it (the scripted vLLM never opens the weights)."""
    folder.mkdir()
    (folder / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "r": 8, "lora_alpha": 16,
                    "base_model_name_or_path": DEFAULT_CHAT_MODEL})
    )  # fmt: skip
    (folder / "adapter_model.safetensors").write_bytes(b"")
    return folder


def admin_http(handle):
    import httpx

    return httpx.Client(
        base_url=handle.base_url, headers={"Authorization": f"Bearer {handle.api_key}"}
    )


def test_imported_adapter_is_served_through_lora_requests(scripted, client, tmp_path):
    handle, llms = scripted
    folder = peft_folder(tmp_path / "pirate")
    http = admin_http(handle)
    imported = http.post(
        "/adapters/import",
        json={"name": "pirate", "path": str(folder), "base_model": DEFAULT_CHAT_MODEL},
    )
    assert imported.status_code == 200, imported.text
    chat = llms[DEFAULT_CHAT_MODEL]

    def adapters() -> dict:  # less the zero adapter the CPU backend pins (engine/vllm/lora.py)
        return {i: r for i, r in chat.loras.items() if i not in chat.pinned}

    (lora,) = adapters().values()
    assert lora.lora_int_id == 1 and os.path.isdir(lora.lora_path)

    response = client.chat.completions.create(
        model="pirate", messages=[{"role": "user", "content": "Hi"}]
    )
    assert response.choices[0].message.content == ADAPTER_REPLY
    assert chat.calls[-1]["lora"].lora_int_id == 1

    assert http.delete("/adapters/pirate").status_code == 200
    assert adapters() == {}


def test_an_adapter_follows_its_base_through_unload_and_load(scripted, client, tmp_path):
    """Issue 26, item 1, on the VLLMEngine (last here: it reloads the base): unloading the base
    takes its adapter away; loading the base gives the new vLLM instance the adapter again;
    loading the adapter loads its base first."""
    handle, llms = scripted
    http = admin_http(handle)
    imported = http.post(
        "/adapters/import", json={"name": "parrot", "path": str(peft_folder(tmp_path / "p"))}
    )
    assert imported.status_code == 200, imported.text
    first = llms[DEFAULT_CHAT_MODEL]

    def served() -> tuple[bool, bool]:
        ids = {m["id"] for m in http.get("/models").json()["data"]}
        return "parrot" in ids, http.get("/adapters/parrot").json()["loaded"]

    def answer() -> str | None:
        reply = client.chat.completions.create(
            model="parrot", messages=[{"role": "user", "content": "Hi"}]
        )
        return reply.choices[0].message.content

    unloaded = http.post("/models/unload", json={"model": DEFAULT_CHAT_MODEL})
    assert unloaded.status_code == 200, unloaded.text
    assert first.shut and served() == (False, False)
    loaded = http.post("/models/load", json={"model": DEFAULT_CHAT_MODEL})
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["adapters"] == ["parrot"]
    second = llms[DEFAULT_CHAT_MODEL]
    assert second is not first and served() == (True, True)
    assert answer() == ADAPTER_REPLY
    assert second.calls[-1]["lora"].lora_int_id not in second.pinned

    assert http.post("/models/unload", json={"model": DEFAULT_CHAT_MODEL}).status_code == 200
    pulled = http.post("/models/load", json={"model": "parrot"})
    assert pulled.status_code == 200, pulled.text
    assert (pulled.json()["id"], pulled.json()["parent"]) == ("parrot", DEFAULT_CHAT_MODEL)
    third = llms[DEFAULT_CHAT_MODEL]
    assert third is not second and served() == (True, True)
    assert answer() == ADAPTER_REPLY
    assert http.delete("/adapters/parrot").status_code == 200
