"""ModelLibrary, Python side: filters, load/unload with live status, opening a Playground."""

from __future__ import annotations

import pytest

from tokenfactory.widgets.model_library import COLUMNS, ModelLibrary
from tokenfactory.widgets.playground import Playground


@pytest.fixture
def lib(gateway):
    widget = ModelLibrary(base_url=gateway.base_url, api_key=gateway.api_key)
    widget.wait()
    yield widget
    widget.close()


def test_catalog_rows_have_the_columns(lib):
    ids = {m["id"] for m in lib.models}
    assert ids == {"test/chat", "test/embed"}
    chat = next(m for m in lib.models if m["id"] == "test/chat")
    assert set(COLUMNS) <= set(chat)
    assert chat["modality"] == "chat" and chat["status"] == "loaded"
    assert chat["provider"] == "test" and chat["context_length"] == 2048
    assert sorted(lib.visible) == ["test/chat", "test/embed"]


def test_filters_and_search_narrow_the_table(lib):
    lib.modality = "embedding"
    assert lib.visible == ["test/embed"]
    lib.modality = ""
    lib.search = "CHAT"
    assert lib.visible == ["test/chat"]
    lib.search = ""
    lib.provider = "nobody"
    assert lib.visible == []
    lib.provider = "test"
    lib.status = "loaded"
    assert sorted(lib.visible) == ["test/chat", "test/embed"]
    assert list(lib.to_pandas()["id"]) == [m["id"] for m in lib.filtered()]


def test_load_and_unload_settle_without_error(lib, gateway):
    lib.unload("test/embed", wait=True)
    assert lib.error == "" and lib.pending == {}
    lib.load("test/embed", wait=True)
    assert lib.error == "" and lib.pending == {}


def test_loading_an_unknown_model_shows_the_api_error(lib):
    lib.load("test/nope", wait=True)
    assert "test/nope" in lib.error
    assert lib.pending == {}


def test_javascript_actions_are_dispatched(lib):
    lib._dispatch(lib, {"action": "load", "model": "test/nope"}, [])
    lib.wait()
    assert "test/nope" in lib.error
    lib._dispatch(lib, {"action": "refresh"}, [])
    lib.wait()
    assert lib.error == ""


def test_open_playground_on_a_model(lib, gateway):
    lib.selected = "test/chat"
    pg = lib.open_playground()
    assert isinstance(pg, Playground)
    pg.wait()
    assert pg.model == "test/chat" and pg.base_url == lib.base_url
    assert pg.send("hi") == "Hello from the fake engine."
    lib._dispatch(lib, {"action": "playground", "model": "test/chat"}, [])
    assert lib.selected == "test/chat" and len(lib.playgrounds) == 2


def test_displays_with_an_output_area_for_playgrounds(lib):
    bundle = lib._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    view = data["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == lib._view.model_id
    assert lib._view.children[0] is lib
