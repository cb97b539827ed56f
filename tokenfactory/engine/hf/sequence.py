"""One generation request as the engine thread tracks it, and the way its outputs reach the
caller's event loop."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from ..protocol import FinishReason, GenerationOutput, GenerationRequest, TokenLogprob
from .constraints import Constraint
from .sampler import RowSampler

_arrival = itertools.count()


class OutputSink:
    """Delivers outputs from the engine thread to an asyncio queue on the caller's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[GenerationOutput | BaseException] = asyncio.Queue()
        self.closed = False

    def put(self, item: GenerationOutput | BaseException) -> bool:
        """False when the caller's loop is gone (the request should be dropped)."""
        if self.closed:
            return False
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # loop closed
            self.closed = True
            return False
        return True


@dataclass(eq=False)
class Sequence:
    request: GenerationRequest
    sink: OutputSink
    sampler: RowSampler
    constraint: Constraint | None = None
    arrival: int = field(default_factory=lambda: next(_arrival))
    aborted: bool = False
    finished: bool = False
    sent_prompt_count: bool = False
    #: the runner's decode step count when the request reached it
    arrived_at_step: int | None = None
    #: the prompt's logprobs, computed at its prefill and sent with the first token
    prompt_logprobs: list[TokenLogprob | None] | None = None

    @property
    def id(self) -> str:
        return self.request.request_id

    @property
    def output_ids(self) -> list[int]:
        return self.sampler.output_ids

    @property
    def all_token_ids(self) -> list[int]:
        return self.request.prompt_token_ids + self.output_ids

    @property
    def wants_prompt_logprobs(self) -> bool:
        """Asked for and not computed yet (a preempted row is prefilled again: not then)."""
        return self.request.prompt_logprobs is not None and not self.output_ids

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.request.priority, self.arrival)

    def emit(self, token_ids: list[int], finish: FinishReason | None = None) -> None:
        last = self.sampler.last_logprob
        out = GenerationOutput(
            token_ids=token_ids,
            finished=finish is not None,
            finish_reason=finish,
            num_prompt_tokens=0 if self.sent_prompt_count else len(self.request.prompt_token_ids),
            logprobs=[last] if token_ids and last is not None else None,
            prompt_logprobs=self.prompt_logprobs,
        )
        self.prompt_logprobs = None
        self.sent_prompt_count = True
        if finish is not None:
            self.finished = True
        if not self.sink.put(out):
            self.aborted = True

    def fail(self, error: BaseException) -> None:
        self.finished = True
        self.sink.put(error)
