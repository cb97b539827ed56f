"""The conformance targets: one live gateway per engine (the scripted fake, the
TransformersEngine and the VLLMEngine), each started once per session and driven over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from tests.fakes import FakeEngine
from tests.live_server import EngineOnServerLoop, start_live_server
from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL

ENGINES = ["fake", "transformers", "vllm"]


@dataclass
class Target:
    engine: str
    server: Any  # tokenfactory.server.ServerHandle
    chat_model: str
    embedding_model: str

    @property
    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.server.base_url, api_key=self.server.api_key, max_retries=0
        )

    def post(self, path: str, body: dict) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.server.api_key}"}
        return httpx.post(f"{self.server.base_url}{path}", json=body, headers=headers, timeout=300)

    def model_info(self, model: str) -> dict:
        headers = {"Authorization": f"Bearer {self.server.api_key}"}
        r = httpx.get(f"{self.server.base_url}/models/{model}", headers=headers, timeout=30)
        r.raise_for_status()
        return r.json()

    def tokenizer(self, model: str) -> Any:
        return self.server.core.engine.tokenizer(model)

    @property
    def engine_here(self) -> EngineOnServerLoop:
        """The engine, callable from the test's loop (its calls run on the server's loop)."""
        return EngineOnServerLoop(self.server)


@pytest.fixture(scope="session")
def fake_server(tmp_path_factory: pytest.TempPathFactory):
    engine = FakeEngine(
        replies=["Hello from the fake engine. It answers every prompt with these words."]
    )
    handle = start_live_server(engine, tmp_path_factory.mktemp("tf-fake-home"))
    yield handle
    handle.stop()


@pytest.fixture(scope="session", params=ENGINES)
def target(request: pytest.FixtureRequest) -> Target:
    server = request.getfixturevalue(f"{request.param}_server")
    if request.param == "fake":
        engine = server.core.engine
        return Target("fake", server, engine.chat_model, engine.embedding_model)
    return Target(request.param, server, DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL)
