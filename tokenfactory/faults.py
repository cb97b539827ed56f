"""Crash points for fault-injection tests: ``TOKENFACTORY_FAULT=<point>`` kills the process
(SIGKILL, no cleanup) when it reaches that point. Unset, a crash point costs one dict lookup.

Points: ``batch.line_ran`` (a batch line has its result and usage, nothing committed yet),
``batch.line_committing`` (inside the transaction that commits both, before COMMIT),
``batch.job_finishing`` (a finished job's result files are written, its final status is not).
"""

from __future__ import annotations

import os
import signal

ENV = "TOKENFACTORY_FAULT"


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
