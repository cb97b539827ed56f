"""The contract tests run on both real engines: ``server`` is the session's TransformersEngine
server, then the session's VLLMEngine server."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def server(engine_server):
    return engine_server
