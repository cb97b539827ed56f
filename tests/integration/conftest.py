"""Integration fixtures: one real TransformersEngine on the embedded default models, and
``real_engine``: that engine, then the session's VLLMEngine (driven on its server's loop)."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL


@pytest_asyncio.fixture(scope="session")
async def hf_engine():
    """Started once per session. float32, so a row's greedy output is the same whether it runs
    alone or in a padded batch (bf16 rounding can flip near-ties)."""
    from tokenfactory.engine.hf import TransformersEngine

    engine = TransformersEngine(
        [DEFAULT_CHAT_MODEL], [DEFAULT_EMBEDDING_MODEL], device="cpu", dtype="float32"
    )
    await engine.start()
    yield engine
    await engine.shutdown()


@pytest.fixture(scope="session")
def chat_tokenizer(hf_engine):
    return hf_engine.tokenizer(DEFAULT_CHAT_MODEL)


@pytest.fixture(scope="session", params=["transformers", "vllm"])
def real_engine(request: pytest.FixtureRequest):
    """Each real engine in turn, for engine-level tests that must hold on both."""
    if request.param == "transformers":
        return request.getfixturevalue("hf_engine")
    from tests.live_server import EngineOnServerLoop

    return EngineOnServerLoop(request.getfixturevalue("vllm_server"))


@pytest.fixture(scope="session")
def real_chat_tokenizer(real_engine):
    return real_engine.tokenizer(DEFAULT_CHAT_MODEL)
