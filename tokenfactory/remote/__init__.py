"""Remote models: chat, completions and embeddings served by OpenAI-compatible upstreams.

An upstream is any server that speaks ``/v1`` (``vllm serve``, a Ray Serve LLM app, another
``tokenfactory serve``). The same model id given for several upstreams makes replicas; the
gateway routes each request to the replica with the fewest requests outstanding, checks their
health in the background, and retries a request that has not started streaming once on another
replica after a connection error or a 503.

Remote models plug in above the engine protocol, at the chat / completions / embeddings
services (see ``docs/scale.md``): an upstream takes and returns OpenAI messages, not token ids.

    config.py     MODEL_ID=URL specs, per-upstream keys from a file
    replica.py    one upstream: its HTTP client, state and load
    pool.py       the replicas of one model: pick, cap, retry
    health.py     background health checks (ejection, re-admission)
    registry.py   every remote model of a gateway; models list and status
    services.py   remote chat / completions / embeddings, shaped like the local services
    serving.py    install(core); the upstream behind the core's services (admitted, metered)
    errors.py     an upstream's refusal in our error shape
"""

from __future__ import annotations

from .config import UpstreamSpec, parse_upstreams
from .serving import install

__all__ = ["UpstreamSpec", "install", "parse_upstreams"]
