"""The same error, in the API's shape, for a model or adapter the engine does not have."""

from __future__ import annotations

import pytest

from tokenfactory.engine.protocol import GenerationRequest, SamplingParams
from tokenfactory.errors import ModelNotFoundError, ResourceNotFoundError

pytestmark = pytest.mark.integration


def test_an_unknown_model_or_adapter_is_a_404(target):
    for model in ("acme/missing-model", "missing-adapter-v1"):
        for path, body in (
            ("/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
            ("/completions", {"prompt": "hi"}),
        ):
            r = target.post(path, {"model": model, "max_tokens": 2} | body)
            assert r.status_code == 404, r.text
            error = r.json()["error"]
            assert error["code"] == "model_not_found" and model in error["message"]
    r = target.post("/embeddings", {"model": "acme/missing-embedder", "input": "hi"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "model_not_found")


async def test_the_engine_refuses_an_adapter_it_has_not_loaded(target):
    engine = target.engine_here
    tokenizer = target.tokenizer(target.chat_model)
    request = GenerationRequest(
        request_id=f"conformance-adapter-{target.engine}",
        model=target.chat_model,
        prompt_token_ids=tokenizer("hi", add_special_tokens=False)["input_ids"],
        sampling=SamplingParams(max_tokens=2, temperature=0),
        adapter="missing-adapter-v1",
    )
    with pytest.raises(ModelNotFoundError, match="missing-adapter-v1") as err:
        async for _ in engine.generate(request):
            pass
    assert err.value.status_code == 404
    with pytest.raises(ResourceNotFoundError, match="missing-adapter-v1") as err:
        await engine.unload_adapter("missing-adapter-v1")
    assert err.value.status_code == 404
    assert engine.health().requests_running == 0
