"""A real HTTP gateway over the scriptable fake engine (fast), and an SDK client on it; the
real-engine tests use the session's ``transformers_server``/``vllm_server`` instead."""

from __future__ import annotations

import pytest

from tests.widgets.live import live_gateway


@pytest.fixture
def gateway(tf_home, request):
    replies = getattr(request, "param", None) or ["4", "5", "Paris"]
    with live_gateway(tf_home, replies=replies) as live:
        yield live


@pytest.fixture
def client(gateway):
    from tokenfactory.sdk import TokenFactory

    with TokenFactory(base_url=gateway.base_url, api_key=gateway.api_key) as c:
        yield c
