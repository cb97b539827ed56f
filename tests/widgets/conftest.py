from __future__ import annotations

import pytest

from tests.widgets.live import live_gateway


@pytest.fixture
def gateway(tf_home):
    with live_gateway(tf_home) as live:
        yield live
