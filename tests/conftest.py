"""Shared fixtures: an isolated data dir per test, a fake-engine gateway, one real server on
the TransformersEngine and one on the VLLMEngine (vLLM's CPU backend here), each started once
per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fakes import FakeEngine


@pytest.fixture(autouse=True)
def tf_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own TOKENFACTORY_HOME and Jupyter runtime dir, and no gateway from
    the environment (a test under ``make lab`` must not attach to the lab's gateway)."""
    home = tmp_path_factory.mktemp("tf-home")
    monkeypatch.delenv("TOKENFACTORY_BASE_URL", raising=False)
    monkeypatch.delenv("TOKENFACTORY_API_KEY", raising=False)
    monkeypatch.setenv("TOKENFACTORY_HOME", str(home))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(home / "jupyter-runtime"))
    return home


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def fake_gateway(fake_engine: FakeEngine, tf_home):
    """A started gateway over the fake engine, with the features installed, and a key."""
    from tokenfactory.core import Core
    from tokenfactory.features import install_features
    from tokenfactory.store import Store

    gateway = Core(fake_engine, Store(tf_home / "test.sqlite3"))
    install_features(gateway)
    _, key = gateway.keys.create_key("default", name="test")
    gateway.test_key = key
    return gateway


@pytest.fixture
def admin_headers(fake_gateway) -> dict[str, str]:
    """An admin key of the fake gateway's default workspace (as ``tf.serve()``'s own key)."""
    _, key = fake_gateway.keys.create_key("default", name="admin", is_admin=True)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(fake_gateway) -> Iterator:
    """A Starlette TestClient on the fake gateway, authenticated as the default workspace."""
    from fastapi.testclient import TestClient

    from tokenfactory.gateway.app import create_app

    app = create_app(fake_gateway)
    with TestClient(app, headers={"Authorization": f"Bearer {fake_gateway.test_key}"}) as client:
        client.portal.call(fake_gateway.start_engine)
        yield client


@pytest.fixture(scope="session")
def server(transformers_server):
    """The default engine's server; tests/contract and the engine-parametrized integration
    tests override it with one parametrized over both real engines (``engine_server``)."""
    return transformers_server


@pytest.fixture(scope="session")
def transformers_server(tmp_path_factory: pytest.TempPathFactory):
    """One real ``tf.serve()`` on the embedded default models for the whole session."""
    home = tmp_path_factory.mktemp("tf-server-home")
    old = {k: os.environ.get(k) for k in ("TOKENFACTORY_HOME", "JUPYTER_RUNTIME_DIR")}
    os.environ["TOKENFACTORY_HOME"] = str(home)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(home / "jupyter-runtime")
    from tokenfactory.server import serve

    handle = serve(engine="transformers", new=True)
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    yield handle
    handle.stop()


#: vLLM's CPU backend reserves this much RAM (GiB) for its KV cache; its default is 92% of RAM.
#: Set for the whole session, so servers the tests start as subprocesses get it too.
VLLM_TEST_KVCACHE_GIB = "1"
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", VLLM_TEST_KVCACHE_GIB)


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory):
    """One VLLMEngine (CPU via vllm-cpu, or a GPU) behind one real gateway for every
    vLLM-parametrized test of the session: each vLLM start costs 15-30 s on 2 cores."""
    from tokenfactory.engine.select import create_engine
    from tokenfactory.errors import UnavailableError

    from .live_server import start_live_server

    try:
        engine = create_engine("vllm", enforce_eager=True)  # compiling costs ~70 s per start
    except UnavailableError as exc:
        pytest.skip(f"VLLMEngine cannot run here: {exc}")
    handle = start_live_server(engine, tmp_path_factory.mktemp("tf-vllm-home"))
    yield handle
    handle.stop()


@pytest.fixture(scope="session", params=["transformers", "vllm"])
def engine_server(request: pytest.FixtureRequest):
    """The session's server on each real engine in turn."""
    return request.getfixturevalue(f"{request.param}_server")
