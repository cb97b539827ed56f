"""One upstream server of a model: its HTTP client, health state and load."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import httpx

from .config import UpstreamSpec

State = Literal["unknown", "healthy", "loading", "ejected"]

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 600.0


@dataclass
class Replica:
    spec: UpstreamSpec
    state: State = "unknown"
    outstanding: int = 0
    served: int = 0  # requests this replica answered (any status)
    failures: int = 0  # connection errors and 5xx seen on requests
    retried_away: int = 0  # requests moved to another replica after failing here
    ejections: int = 0
    last_error: str | None = None
    last_check: float | None = None
    state_since: float = field(default_factory=time.time)
    adapters: list[str] = field(default_factory=list)  # LoRA modules it lists for the model
    modality: str | None = None  # as the upstream reports it (tokenfactory does; vLLM not)
    context_length: int | None = None
    runtime_lora: bool | None = None  # accepts POST /v1/load_lora_adapter (None: not probed)
    _client: httpx.AsyncClient | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.spec.url

    @property
    def routable(self) -> bool:
        return self.state in ("healthy", "unknown")

    @property
    def has_room(self) -> bool:
        return self.outstanding < self.spec.max_concurrency

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.spec.api_key}"} if self.spec.api_key else {}
            limits = httpx.Limits(
                max_connections=self.spec.max_concurrency + 8,
                max_keepalive_connections=self.spec.max_concurrency,
            )
            self._client = httpx.AsyncClient(
                base_url=self.spec.url,
                headers=headers,
                limits=limits,
                timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            )
        return self._client

    def set_state(self, state: State, error: str | None = None) -> None:
        if state != self.state:
            if state == "ejected" and self.state != "unknown":
                self.ejections += 1
            self.state = state
            self.state_since = time.time()
        if error is not None or state == "healthy":
            self.last_error = error

    def snapshot(self) -> dict:
        return {
            "url": self.spec.url,
            "state": self.state,
            "outstanding": self.outstanding,
            "max_concurrency": self.spec.max_concurrency,
            "served": self.served,
            "failures": self.failures,
            "retried_away": self.retried_away,
            "ejections": self.ejections,
            "last_error": self.last_error,
            "adapters": list(self.adapters),
            "runtime_lora": self.runtime_lora,
        }

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
