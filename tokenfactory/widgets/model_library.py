"""``tf.ModelLibrary()``: the gateway's model catalog as a filterable table.

Filters (``provider``, ``modality``, ``status``, ``search``) narrow ``visible``, the ids the
table shows; ``load(id)`` / ``unload(id)`` call the gateway and poll ``/v1/models`` so the
status column changes live; ``open_playground(id)`` opens a Playground on a model.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets
import traitlets
from IPython.display import display

from .api import GatewayApi
from .base import GatewayWidget, css, esm
from .playground import Playground

COLUMNS = [
    "id",
    "provider",
    "modality",
    "status",
    "size_bytes",
    "context_length",
    "engine",
    "adapters",
    "parent",
]
POLL_INTERVAL = 0.5


class ModelLibrary(GatewayWidget):
    _esm = esm("model_library.js")
    _css = css("model_library.css")

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    provider = traitlets.Unicode("").tag(sync=True)
    modality = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    search = traitlets.Unicode("").tag(sync=True)
    visible = traitlets.List(traitlets.Unicode()).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    pending = traitlets.Dict().tag(sync=True)

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None, **kwargs: Any):
        super().__init__(base_url=base_url, api_key=api_key, **kwargs)
        self._api_key = api_key
        self._output = ipywidgets.Output()
        self._view = ipywidgets.VBox([self, self._output])
        self.playgrounds: list[Playground] = []
        self.observe(self._filter, ["models", "provider", "modality", "status", "search"])
        self.on_action("refresh", lambda _m: self.refresh())
        self.on_action("load", lambda m: self.load(str(m["model"])))
        self.on_action("unload", lambda m: self.unload(str(m["model"])))
        self.on_action("playground", lambda m: self._show_playground(str(m["model"])))
        if self.connection is not None:
            self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any):
        return self._view._repr_mimebundle_(**kwargs)

    # -- the catalog
    def refresh(self) -> threading.Thread:
        return self.run_in_background(lambda api: api.models(), self._set_models)

    def _set_models(self, data: list[dict]) -> None:
        self.models = [{c: m.get(c) for c in COLUMNS} for m in data]

    def matches(self, row: dict) -> bool:
        if self.provider and row.get("provider") != self.provider:
            return False
        if self.modality and row.get("modality") != self.modality:
            return False
        if self.status and row.get("status") != self.status:
            return False
        needle = self.search.strip().lower()
        if needle:
            fields = ("id", "provider", "engine", "parent")
            haystack = " ".join(str(row.get(c) or "") for c in fields)
            return needle in haystack.lower()
        return True

    def _filter(self, _change: Any = None) -> None:
        self.visible = [row["id"] for row in self.models if self.matches(row)]

    def filtered(self) -> list[dict]:
        return [row for row in self.models if self.matches(row)]

    def to_pandas(self, *, all_models: bool = False):
        import pandas as pd

        rows = self.models if all_models else self.filtered()
        return pd.DataFrame(rows, columns=COLUMNS)

    # -- load / unload
    def load(self, model: str, *, wait: bool = False) -> threading.Thread:
        return self._change(model, "loading", lambda api: api.load(model), wait)

    def unload(self, model: str, *, wait: bool = False) -> threading.Thread:
        return self._change(model, "unloading", lambda api: api.unload(model), wait)

    def _change(self, model: str, label: str, call, wait: bool) -> threading.Thread:
        self.pending = {**self.pending, model: label}

        def work(api: GatewayApi) -> list[dict]:
            done = threading.Event()
            failure: list[BaseException] = []

            def request() -> None:
                try:
                    call(api)
                except BaseException as exc:
                    failure.append(exc)
                finally:
                    done.set()

            threading.Thread(target=request, daemon=True).start()
            while not done.wait(POLL_INTERVAL):
                self._set_models(api.models())
            if failure:
                raise failure[0]
            return api.models()

        def settle(data: list[dict] | None = None) -> None:
            self.pending = {k: v for k, v in self.pending.items() if k != model}
            if data is not None:
                self._set_models(data)

        thread = self.run_in_background(work, settle, on_error=lambda _e: settle())
        if wait:
            thread.join()
        return thread

    # -- playground
    def open_playground(self, model: str | None = None) -> Playground:
        """A Playground on ``model`` (default: the selected one) against the same gateway."""
        model = model or self.selected or None
        connection = self.connection
        playground = Playground(
            model=model,
            base_url=connection.base_url if connection else None,
            api_key=connection.api_key if connection else None,
        )
        self.playgrounds.append(playground)
        return playground

    def _show_playground(self, model: str) -> None:
        self.selected = model
        playground = self.open_playground(model)
        self._output.clear_output()
        with self._output:
            display(playground)
