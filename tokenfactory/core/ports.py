"""The ports: what the kernel asks of the parts plugged into it, as small Protocols.

The core names nothing above it. A feature implements a port and registers it where the
application is assembled (``tokenfactory.features``, ``remote.install``):

- :class:`UsageLedger` writes each usage record (and its wallet debit) in the core's store
  transaction (``usage``'s ``Meter``);
- :class:`ModelBackend` serves models that do not run on the local engine (remote upstreams):
  the inference services hand a request for one of them to its backend;
- :class:`Installed` holds the inference services and the features by their class, for the
  doors that call them (routes, batch lines); the core itself never looks inside.

Hooks that are plain callables (admission checks, usage observers, model resolvers, startup
and shutdown hooks) are typed in ``core.app``.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..engine.protocol import ModelInfo
from ..errors import UnavailableError
from .records import Call, UsageRecord

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .run import Run

T = TypeVar("T")


def need(service: T | None, what: str) -> T:
    """The installed feature service, or a 503 saying the feature is off on this gateway."""
    if service is None:
        raise UnavailableError(f"{what} is not enabled on this gateway", code="feature_not_enabled")
    return service


class UsageLedger(Protocol):
    def write(self, record: UsageRecord, conn: sqlite3.Connection) -> None:
        """Write one record (and its debit) inside the caller's transaction."""

    def release_current(self) -> None:
        """Give back what this task's unsettled admissions hold."""


class ModelBackend(Protocol):
    """Models served somewhere other than the local engine, behind the same services."""

    def models(self) -> list[ModelInfo]: ...

    def serves(self, model: str) -> bool: ...

    async def start(self, req: BaseModel, call: Call) -> Run[Any, Any]:
        """Admit the request and hand back its metered run (as a local service does)."""
        ...


class Installed:
    """What is installed into a core, by class: the inference services, the features and
    their parts (``installed.get(BatchService)``; ``installed[X]`` is a 503 when X is off)."""

    def __init__(self) -> None:
        self._parts: dict[type, object] = {}

    def add(self, part: object) -> None:
        self._parts[type(part)] = part

    def get(self, kind: type[T]) -> T | None:
        part = self._parts.get(kind)
        if part is None:
            part = next((p for p in self._parts.values() if isinstance(p, kind)), None)
        return part if isinstance(part, kind) else None

    def __getitem__(self, kind: type[T]) -> T:
        return need(self.get(kind), kind.__name__)

    def __contains__(self, kind: type) -> bool:
        return self.get(kind) is not None
