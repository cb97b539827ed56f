"""Two real upstream replicas (``tokenfactory serve`` on the TransformersEngine) and a gateway
process in front of them, started once per session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .processes import CHAT_MODEL, gateway, replica, warm


@pytest.fixture(scope="session")
def replicas(tmp_path_factory: pytest.TempPathFactory):
    procs = [replica(tmp_path_factory.mktemp(f"replica{i}")) for i in range(2)]
    try:
        for p in procs:
            p.start()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p: warm(p.wait_ready()), procs))
        yield procs
    finally:
        for p in procs:
            p.stop()


@pytest.fixture(scope="session")
def remote_gateway(replicas, tmp_path_factory: pytest.TempPathFactory):
    upstreams = [f"{CHAT_MODEL}={r.url}" for r in replicas]
    gw = gateway(tmp_path_factory.mktemp("gateway"), upstreams)
    gw.start(env={"TOKENFACTORY_UPSTREAM_HEALTH_INTERVAL": "0.5"}).wait_ready(60)
    try:
        yield gw
    finally:
        gw.stop()
