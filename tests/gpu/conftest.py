"""GPU tests: the real VLLMEngine behind the real gateway, driven by the official client.

Every test here is marked ``gpu`` and skipped unless vLLM is importable and a CUDA GPU is
visible (``docs/gpu.md`` says how to run them on the GPU machine). The models are the embedded
defaults: SmolLM2 (converted once from its packaged GGUF) and the packaged MiniLM folder.

GPU memory is split so that the session server, one extra engine (the lifecycle test) and a
notebook kernel's server fit on one GPU side by side; override with the
``TOKENFACTORY_VLLM_*`` variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.engine.vllm import engine as vllm_engine
from tokenfactory.engine.vllm import params as vllm_params

CHAT_MODEL = DEFAULT_CHAT_MODEL
EMBEDDING_MODEL = DEFAULT_EMBEDDING_MODEL

#: Fractions of the GPU for each vLLM instance the tests start (a 135M model needs little).
TEST_MEMORY = {
    vllm_params.ENV_GPU_MEMORY: "0.25",
    vllm_params.ENV_EMBEDDING_GPU_MEMORY: "0.05",
}

_GPU_DIR = Path(__file__).parent


def _skip_reason() -> str | None:
    if not vllm_engine.vllm_installed():
        return "vllm is not installed"
    if not vllm_engine.cuda_available():
        return "no CUDA GPU visible"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    for item in items:
        if _GPU_DIR not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.gpu)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"GPU test: {reason}"))


@pytest.fixture(scope="session")
def gpu_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment every GPU test (and any kernel or subprocess it starts) runs with."""
    vllm_engine.prepare_environment()
    env = {**TEST_MEMORY}
    for name, value in env.items():
        os.environ.setdefault(name, value)
    yield {**os.environ}


@pytest.fixture(scope="session")
def gpu_server(gpu_env, tmp_path_factory: pytest.TempPathFactory):
    """One ``tf.serve(engine="vllm")`` for the session: chat + embedding model on the GPU."""
    import tokenfactory as tf

    home = tmp_path_factory.mktemp("gpu-home")
    previous = os.environ.get("TOKENFACTORY_HOME")
    os.environ["TOKENFACTORY_HOME"] = str(home)
    handle = tf.serve(
        [CHAT_MODEL], embedding_models=[EMBEDDING_MODEL], engine="vllm", timeout=1200, new=True
    )
    try:
        assert handle.engine.name == "vllm"
        yield handle
    finally:
        handle.stop(timeout=180)  # the server thread shuts the engine down on its way out
        if previous is None:
            os.environ.pop("TOKENFACTORY_HOME", None)
        else:
            os.environ["TOKENFACTORY_HOME"] = previous


@pytest.fixture(scope="session")
def client(gpu_server):
    from openai import OpenAI

    return OpenAI(base_url=gpu_server.base_url, api_key=gpu_server.api_key, max_retries=0)


@pytest.fixture(scope="session")
def chat_model_path(gpu_env) -> str:
    """The local safetensors copy of the default chat model (converted from the GGUF once)."""
    from tokenfactory.engine.model_files import resolve

    return resolve(CHAT_MODEL)


def gpu_free_bytes() -> int:
    import torch

    free, _total = torch.cuda.mem_get_info()
    return int(free)
