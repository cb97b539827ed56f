"""A started server whose engine is idle spends (almost) no CPU: no thread spins or polls hot."""

from __future__ import annotations

import os
import threading
import time

import httpx
import pytest

WINDOW_S = 3.0
#: A thread that spins uses ~100% of a core; a timed wait that wakes a few times a second
#: (batch runner, metrics sampler, engine inbox) uses well under 1%.
THREAD_LIMIT = 0.05
PROCESS_LIMIT = 0.10


def thread_cpu_s() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by native thread id."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # the thread ended
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_no_thread_burns_cpu_while_the_server_is_idle(server):
    # one request first, so every lazily started loop and thread of the engine exists
    body = {
        "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 2,
    }
    headers = {"Authorization": f"Bearer {server.api_key}"}
    r = httpx.post(server.base_url + "/chat/completions", json=body, headers=headers, timeout=120)
    assert r.status_code == 200
    time.sleep(1.0)  # let the request's tail (usage record, engine step) finish

    before = thread_cpu_s()
    time.sleep(WINDOW_S)
    after = thread_cpu_s()

    names = {t.native_id: t.name for t in threading.enumerate()}
    used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    hot = {
        names.get(tid, tid): round(s, 3) for tid, s in used.items() if s > THREAD_LIMIT * WINDOW_S
    }
    assert not hot, f"threads busy while idle (CPU s over {WINDOW_S} s): {hot}"
    assert sum(used.values()) < PROCESS_LIMIT * WINDOW_S, used
