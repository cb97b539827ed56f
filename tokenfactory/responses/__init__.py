"""The Responses API (``/v1/responses``) over the chat service, with its responses stored.

``install(core)`` (listed in ``tokenfactory.features.FEATURES``) registers the
``ResponsesService`` for the ``RESPONSES`` endpoint and its ``ResponseRepository`` in
``core.installed``. The HTTP side is ``gateway/routes/responses_api.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core import Core


def install(core: Core) -> None:
    from ..core.endpoints import RESPONSES
    from .repository import ResponseRepository
    from .service import ResponsesService

    repo = ResponseRepository(core.store)
    core.installed.add(repo)
    if not core.serves(RESPONSES):
        core.serve(RESPONSES, ResponsesService(core, repo))
