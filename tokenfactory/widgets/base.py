"""The base every tokenfactory widget builds on.

``GatewayWidget`` is an anywidget with:

- an ``error`` trait the JavaScript shows in a banner (``static/base.js``: ``errorBanner``);
- ``busy``: how many background calls are running;
- ``run_in_background(fn, on_result)``: runs ``fn(api)`` on a worker thread and hands the
  result to ``on_result``; any exception lands in ``error`` with the API's message, never in
  JavaScript and never in the kernel's event loop. A later success of a call from the same
  ``source`` takes its message away again; any other error stays until the user acts;
- ``on_action(name, handler)``: messages the JavaScript sends as ``model.send({action, ...})``
  are dispatched to handlers, with the same error guarantee.
- ``relay_gateway``: the id under which the Jupyter server extension knows this widget's
  gateway (empty when it does not, or holds another key). A button that must work while a
  cell keeps the kernel busy (Cancel) goes through that relay from the page
  (``gatewayAction`` in ``static/base.js``); a message to the kernel would wait behind the cell.

A subclass sets ``_esm``/``_css`` and its own traits; the connection (and the API key, which
never goes to the browser) is resolved once, from ``base_url``/``api_key`` or the running
gateway (see ``connection.resolve``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .api import ApiError, GatewayApi
from .connection import Connection, resolve

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    """The message shown to a user for a failure."""
    if isinstance(exc, ApiError):
        return str(exc)
    message = getattr(exc, "message", None) or str(exc)
    return message if message else type(exc).__name__


class GatewayWidget(anywidget.AnyWidget):
    error = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Int(0).tag(sync=True)
    base_url = traitlets.Unicode("").tag(sync=True)
    relay_gateway = traitlets.Unicode("").tag(sync=True)

    def __init__(self, base_url: str | None = None, api_key: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._actions: dict[str, Callable[[dict], Any]] = {}
        self._errors_by_source: dict[str, str] = {}
        self._api: GatewayApi | None = None
        self._connection: Connection | None = None
        try:
            self._connection = resolve(base_url, api_key)
            self.base_url = self._connection.base_url
            self.relay_gateway = relay_id(self._connection)
        except Exception as exc:
            self.error = describe(exc)
        self.on_msg(self._dispatch)

    # -- connection
    @property
    def connection(self) -> Connection | None:
        return self._connection

    def api(self) -> GatewayApi:
        if self._connection is None:
            raise ApiError(self.error or "Not connected to a gateway")
        if self._api is None:
            self._api = GatewayApi(self._connection)
        return self._api

    # -- background work
    def run_in_background(
        self,
        fn: Callable[[GatewayApi], Any],
        on_result: Callable[[Any], None] | None = None,
        *,
        on_error: Callable[[BaseException], None] | None = None,
        clear_error: bool = True,
        source: str = "call",
    ) -> threading.Thread:
        """Run ``fn(api)`` on a worker thread; failures go to ``error`` (and ``on_error``).

        With ``clear_error``, a success removes the error shown by an earlier failure of the
        same ``source`` (a list that could not be fetched, now fetched), never another one: a
        background refresh must not wipe a message the user has not seen yet.
        """

        def work() -> None:
            with self._lock:
                self.busy += 1
            try:
                result = fn(self.api())
                if clear_error:
                    self._clear_error_of(source)
                if on_result is not None:
                    on_result(result)
            except Exception as exc:
                message = describe(exc)
                self._errors_by_source[source] = message
                self.error = message
                if on_error is not None:
                    try:
                        on_error(exc)
                    except Exception as inner:
                        log.warning("error handler failed: %s", inner)
            finally:
                with self._lock:
                    self.busy -= 1

        thread = threading.Thread(target=work, name=f"{type(self).__name__}-call", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def _clear_error_of(self, source: str) -> None:
        message = self._errors_by_source.pop(source, None)
        if message and self.error == message:
            self.error = ""

    def wait(self, timeout: float | None = 60.0) -> None:
        """Block until the background calls started so far have finished."""
        for thread in list(self._threads):
            thread.join(timeout)

    # -- messages from JavaScript
    def on_action(self, name: str, handler: Callable[[dict], Any]) -> None:
        self._actions[name] = handler

    def _dispatch(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        handler = self._actions.get(str(content.get("action")))
        if handler is None:
            return
        try:
            handler(content)
        except Exception as exc:
            self.error = describe(exc)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None
        super().close()


def relay_id(connection: Connection) -> str:
    """The Jupyter server extension's id for this gateway when it relays with this key."""
    try:
        from ..jupyter.relay import find_by_url, gateway_id

        record = find_by_url(connection.base_url, connection.api_key)
    except Exception as exc:  # no readable runtime directory: no relay, the kernel path stays
        log.debug("no relay for %s: %s", connection.base_url, exc)
        return ""
    return gateway_id(record) if record is not None else ""


def esm(*names: str) -> str:
    """A widget's ES module: the shared helpers of ``base.js`` followed by ``names`` (helper
    files first, the widget's own module, with its ``export default``, last)."""
    return "\n".join((STATIC / name).read_text() for name in ("base.js", *names))


def css(name: str) -> str:
    return (STATIC / "base.css").read_text() + "\n" + (STATIC / name).read_text()
