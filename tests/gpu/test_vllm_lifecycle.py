"""shutdown() gives the GPU memory back, and a second engine starts in the same process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gpu

GIB = 1 << 30


def test_shutdown_releases_memory_and_a_second_engine_starts(gpu_env):
    probe = Path(__file__).with_name("lifecycle_probe.py")
    result = subprocess.run(
        [sys.executable, str(probe)],
        capture_output=True,
        text=True,
        timeout=1200,
        env=gpu_env,
        cwd=Path(__file__).parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    m = json.loads(result.stdout.strip().splitlines()[-1])
    # each engine took a real share of the GPU while it ran ...
    assert m["before"] - m["loaded_1"] > 0.1 * m["total"], m
    assert m["before"] - m["loaded_2"] > 0.1 * m["total"], m
    # ... and gave it back on shutdown (within 1 GiB)
    assert m["after_1"] >= m["before"] - GIB, m
    assert m["after_2"] >= m["before"] - GIB, m
    # the second engine works, and greedy decoding agrees with the first
    assert m["tokens_1"] and m["tokens_1"] == m["tokens_2"]
