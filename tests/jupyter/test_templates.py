"""The notebook templates are valid notebooks and point at a gateway when asked."""

from __future__ import annotations

import json

import nbformat
import pytest

from tokenfactory import templates


@pytest.mark.parametrize("name", list(templates.TEMPLATES))
def test_template_is_a_valid_notebook(name):
    nb = nbformat.reads(json.dumps(templates.render(name)), as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown"
    assert any("import tokenfactory as tf" in c.source for c in nb.cells)


def test_base_url_replaces_the_placeholder_once():
    nb = templates.render("model-library", base_url="http://127.0.0.1:9999/v1")
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert sum("BASE_URL = 'http://127.0.0.1:9999/v1'" in s for s in sources) == 1
    assert not any("BASE_URL = None" in s for s in sources)


def test_labextension_and_server_extension_entry_points():
    import tokenfactory
    from tokenfactory import jupyter

    assert tokenfactory._jupyter_labextension_paths() == [
        {"src": "labextension", "dest": "tokenfactory"}
    ]
    assert tokenfactory._jupyter_server_extension_points() == [{"module": "tokenfactory.jupyter"}]
    assert callable(jupyter._load_jupyter_server_extension)
