"""LoRA adapters on upstreams: vLLM's runtime loading (``POST /v1/load_lora_adapter``).

vLLM registers that route only when started with ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``
(and ``--enable-lora``); elsewhere it is a 404/405. :func:`probe` asks with an empty body,
which a server with the route rejects as invalid (400/422) and one without answers 404/405,
so nothing is loaded by probing.
"""

from __future__ import annotations

import httpx

from .replica import Replica

PATH = "/load_lora_adapter"


async def probe(replica: Replica) -> None:
    """Set ``replica.runtime_lora`` (once) from how the upstream answers an empty load."""
    try:
        resp = await replica.client.post(PATH, json={}, timeout=5.0)
    except httpx.HTTPError:
        return  # ask again on a later health round
    replica.runtime_lora = resp.status_code not in (404, 405, 501)


async def load_on(replica: Replica, name: str, path: str) -> str | None:
    """Load the adapter on one replica; None on success, else why not."""
    if replica.runtime_lora is None:
        await probe(replica)
    if replica.runtime_lora is False:
        return f"{replica.url} does not allow runtime LoRA loading"
    try:
        resp = await replica.client.post(PATH, json={"lora_name": name, "lora_path": path})
    except httpx.HTTPError as exc:
        return f"{replica.url}: {type(exc).__name__}: {exc}"
    if resp.status_code >= 400:
        return f"{replica.url} refused it ({resp.status_code}): {resp.text[:300]}"
    if name not in replica.adapters:
        replica.adapters = sorted([*replica.adapters, name])
    return None


def capability(replicas: list[Replica]) -> str:
    """``yes`` / ``no`` / ``some`` / ``unknown``: can the upstreams load LoRA at run time."""
    known = [r.runtime_lora for r in replicas if r.runtime_lora is not None]
    if not known:
        return "unknown"
    if all(known) and len(known) == len(replicas):
        return "yes"
    return "no" if not any(known) else "some"
