"""The engine thread: the only thread that touches the models.

It runs submitted commands (add a request, load an adapter, ...), one decode step for every
chat model with work, and one batch of any pending embedding job, then repeats; with nothing
to do it sleeps until a command arrives. Callers on any event loop await results through
:meth:`Worker.call` and :meth:`Worker.run_job`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from .runner import ChatRunner

log = logging.getLogger("tokenfactory.engine")


def _resolve(fut: asyncio.Future, result: Any = None, error: BaseException | None = None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)


class Worker(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="tokenfactory-engine", daemon=True)
        self.inbox: queue.Queue[Callable[[], None]] = queue.Queue()
        self.runners: dict[str, ChatRunner] = {}
        self.jobs: deque[tuple[Iterator[Any], Callable[[BaseException | None], None]]] = deque()
        self.paused = False
        self._stopping = False

    # -- called from any thread ----------------------------------------------------------
    def submit(self, command: Callable[[], None]) -> None:
        self.inbox.put(command)

    def wake_up(self) -> None:
        self.inbox.put(lambda: None)

    async def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the engine thread and await its result (or exception)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        def command() -> None:
            try:
                result = fn()
            except BaseException as exc:
                loop.call_soon_threadsafe(_resolve, fut, None, exc)
            else:
                loop.call_soon_threadsafe(_resolve, fut, result)

        self.submit(command)
        return await fut

    async def run_job(self, job: Iterator[Any]) -> None:
        """Run a generator on the engine thread, one ``next()`` per loop turn, interleaved
        with decode steps."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        def done(error: BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the caller's loop is gone
                loop.call_soon_threadsafe(_resolve, fut, None, error)

        self.submit(lambda: self.jobs.append((job, done)))
        await fut

    def stop(self) -> None:
        def command() -> None:
            self._stopping = True

        self.submit(command)

    # -- the engine thread ---------------------------------------------------------------
    def has_work(self) -> bool:
        if self.paused:
            return False
        return bool(self.jobs) or any(r.has_work() for r in self.runners.values())

    def run(self) -> None:
        while not self._stopping:
            self._drain(block=not self.has_work())
            if self._stopping or self.paused:
                continue
            for runner in list(self.runners.values()):
                if runner.has_work():
                    try:
                        runner.step()
                    except Exception:
                        log.exception("decode step failed on %s", runner.model_id)
            self._job_step()
        for runner in self.runners.values():
            for seq in runner.sequences():
                seq.emit([], "abort")
        for _, done in self.jobs:
            done(RuntimeError("the engine shut down"))
        self.runners.clear()
        self.jobs.clear()

    def _drain(self, block: bool) -> None:
        try:
            command = self.inbox.get(block=block, timeout=1.0 if block else None)
        except queue.Empty:
            return
        while True:
            try:
                command()
            except Exception:
                log.exception("engine command failed")
            try:
                command = self.inbox.get_nowait()
            except queue.Empty:
                return

    def _job_step(self) -> None:
        if not self.jobs:
            return
        job, done = self.jobs.popleft()
        try:
            next(job)
        except StopIteration:
            done(None)
        except BaseException as exc:
            done(exc)
        else:
            self.jobs.append((job, done))
