"""The Jupyter server extension: lists the gateways running on this machine (found through
their discovery files) and relays their status to the JupyterLab sidebar, so the browser never
holds an API key. Routes live under ``/tokenfactory/api`` (see ``handlers``)."""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "tokenfactory.jupyter"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from .handlers import setup_handlers

    setup_handlers(serverapp.web_app)
    serverapp.log.info("tokenfactory server extension loaded")


load_jupyter_server_extension = _load_jupyter_server_extension
