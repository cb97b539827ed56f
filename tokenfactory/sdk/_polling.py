"""The one ``wait`` loop behind ``batches.wait`` and ``adapters.wait``, sync and async.

``Poll`` holds the logic (the deadline, the finished test, the progress bar, the timeout
message); ``wait`` and ``async_wait`` only fetch and sleep around it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Progress(Protocol[T_contra]):
    def update(self, current: T_contra) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def update(self, current: Any) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class Poll(Generic[T]):
    """What waiting for one object means: when it is finished, what to show, when to give up."""

    finished: Callable[[T], bool]
    describe: Callable[[T], str]  # "batch b1 is still running", for the TimeoutError
    timeout: float | None = None
    poll_interval: float = 1.0
    progress: Progress[T] = field(default_factory=NoProgress)

    def __post_init__(self) -> None:
        self._deadline = None if self.timeout is None else time.monotonic() + self.timeout

    def done(self, current: T) -> bool:
        """Show ``current``; True when it is finished; TimeoutError when time is up."""
        self.progress.update(current)
        if self.finished(current):
            return True
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise TimeoutError(f"{self.describe(current)} after {self.timeout} s")
        return False


def wait(poll: Poll[T], fetch: Callable[[], T], first: T | None = None) -> T:
    """Fetch until ``poll`` says done (``first``, when given, is the first state to check)."""
    current = fetch() if first is None else first
    try:
        while not poll.done(current):
            time.sleep(poll.poll_interval)
            current = fetch()
        return current
    finally:
        poll.progress.close()


async def async_wait(poll: Poll[T], fetch: Callable[[], Awaitable[T]]) -> T:
    current = await fetch()
    try:
        while not poll.done(current):
            await asyncio.sleep(poll.poll_interval)
            current = await fetch()
        return current
    finally:
        poll.progress.close()


class Bar(Generic[T]):
    """A tqdm bar over a polled object: ``measure`` gives (done, total, postfix)."""

    def __init__(
        self, desc: str, unit: str, measure: Callable[[T], tuple[int, int, dict[str, Any]]]
    ) -> None:
        self._desc, self._unit, self._measure = desc, unit, measure
        self._bar: Any = None

    def update(self, current: T) -> None:
        done, total, postfix = self._measure(current)
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total or None, desc=self._desc, unit=self._unit)
        if total and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
