"""Starting a model's vLLM instance again when its engine core has died.

vLLM raises ``EngineDeadError`` for every request once the engine-core process of an
``AsyncLLM`` is gone (a crash in a kernel, the OOM killer, a signal); the instance never serves
again. Rather than leave the model answering 503 until someone restarts the server, the engine
starts a new instance of that model in place: the request that found it dead fails with a
retryable 503, requests that arrive meanwhile wait (``_Served.open``) and then run on the new
instance. Adapters need no reload: each request names its adapter's folder, and vLLM loads it
into the new instance on first use.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import runtime
from . import switch as vllm_switch

if TYPE_CHECKING:
    from .engine import VLLMEngine, _Served

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestartRecord:
    model: str
    #: the request that found the engine core dead
    request_id: str
    #: from then until the new instance served (or failed to start)
    seconds: float
    ok: bool


async def restart_dead(engine: VLLMEngine, served: _Served, dead: Any, request_id: str) -> None:
    """Replace ``dead`` (``served``'s instance, whose engine core is gone) with a new one."""
    async with served.lock:
        if served.llm is not dead or engine._closed:
            return  # already replaced (by another request's restart), unloaded or shut down
        log.error(
            "vLLM's engine core for %s died (request %s); starting it again",
            served.model_id,
            request_id,
        )
        served.open.clear()
        started = time.monotonic()
        ok = False
        try:
            # ``served.llm`` stays the dead instance meanwhile: the model still counts as loaded,
            # so new requests wait on ``open`` instead of being refused
            await vllm_switch.stop(dead, served.processes)
            served.processes = []
            runtime.release_memory()
            settings = dataclasses.replace(engine._settings, enable_lora=served.lora)
            served.llm, served.processes = await engine._build(served, settings)
            ok = True
        except Exception as exc:
            served.llm, served.status = None, "failed"
            served.error = f"restart failed: {type(exc).__name__}: {exc}"
            log.exception("vLLM failed to start %s again", served.model_id)
        finally:
            served.open.set()
            seconds = time.monotonic() - started
            engine.restarts.append(RestartRecord(served.model_id, request_id, seconds, ok))
        if ok:
            log.info("%s serves again after %.1f s", served.model_id, seconds)
