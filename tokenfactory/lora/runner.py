"""The background thread that trains adapters one at a time, then serves them.

The gateway (and the kernel) keep answering while it trains. Each job reports progress into
the store as it goes; on success the adapter is loaded into the running engine (no restart).
A job interrupted by a crash or a shutdown keeps its ``running`` status, and the next start
resumes it from its last epoch checkpoint (:meth:`TrainingRunner.recover`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.records import JobEvent
from .dataset import parse_jsonl
from .repository import AdapterRecord, AdapterRepository

if TYPE_CHECKING:
    from ..core import Core

log = logging.getLogger("tokenfactory.lora")
ENGINE_CALL_TIMEOUT = 600.0


class JobCallbacks:
    """What the training loop reports, written to the adapter's record and event list.

    A run resumed after a crash redoes the steps after its last checkpoint; their loss (and
    epoch) events were written before the crash (since the job was queued), so they are not
    written again: the event list holds each step once, as a live loss curve reads it.
    """

    def __init__(self, runner: TrainingRunner, adapter_id: str) -> None:
        self.runner = runner
        self.repository = runner.repository
        self.id = adapter_id
        events = self.repository.events(adapter_id)
        queued = [
            i for i, e in enumerate(events) if (e["type"], e["message"]) == ("status", "queued")
        ]
        events = events[queued[-1] :] if queued else events  # this job's, not an earlier run's
        self._loss_through = max((e["step"] or 0 for e in events if e["type"] == "loss"), default=0)
        self._epoch_through = max(
            (e["epoch"] or 0 for e in events if e["type"] == "epoch"), default=0
        )

    def started(self, total_steps: int, step: int, epoch: int) -> None:
        self.repository.update(
            self.id,
            total_steps=total_steps,
            step=step,
            epoch=epoch,
            run_started_at=time.time(),
            run_start_step=step,
        )
        if step:
            message = f"resumed from the checkpoint of epoch {epoch} (step {step}/{total_steps})"
        else:
            message = f"training started: {total_steps} steps"
        self.repository.add_event(self.id, "info", step=step, epoch=epoch, message=message)

    def step(self, step: int, epoch: int, loss: float) -> None:
        self.repository.update(self.id, step=step, epoch=epoch, train_loss=loss)
        if step > self._loss_through:
            self.repository.add_event(self.id, "loss", step=step, epoch=epoch, loss=loss)

    def epoch_done(self, epoch: int, step: int, validation_loss: float | None) -> None:
        fields: dict[str, Any] = {"epoch": epoch}
        if validation_loss is not None:
            fields["validation_loss"] = validation_loss
        self.repository.update(self.id, **fields)
        if epoch <= self._epoch_through:
            return
        self.repository.add_event(
            self.id,
            "epoch",
            step=step,
            epoch=epoch,
            validation_loss=validation_loss,
            message=f"epoch {epoch} done; checkpoint saved",
        )

    def stop_reason(self) -> str | None:
        if self.id in self.runner.cancel_requested:
            return "cancel"
        if self.runner.stopping.is_set():
            return "shutdown"
        return None


class TrainingRunner:
    def __init__(self, core: Core, repository: AdapterRepository) -> None:
        self.core = core
        self.repository = repository
        self.loop: asyncio.AbstractEventLoop | None = None
        self.cancel_requested: set[str] = set()
        #: awaited on the engine's loop once an adapter is trained and loaded, before the job
        #: is recorded as succeeded (its epoch checkpoints are served by then)
        self.trained_hooks: list[Callable[[AdapterRecord], Awaitable[None]]] = []
        self.stopping = threading.Event()
        self.current: str | None = None
        self._queue: queue.Queue[tuple[str, bool]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- control -------------------------------------------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The gateway's event loop, where engine calls must run."""
        self.loop = loop

    def submit(self, adapter_id: str, resume: bool) -> None:
        self.cancel_requested.discard(adapter_id)
        self._queue.put((adapter_id, resume))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self.stopping.clear()
                self._thread = threading.Thread(
                    target=self._work, name="tokenfactory-lora-trainer", daemon=True
                )
                self._thread.start()

    def is_busy_with(self, adapter_id: str) -> bool:
        return self.current == adapter_id

    def stop(self, timeout: float = 60.0) -> None:
        self.stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- the thread ----------------------------------------------------------------------
    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                adapter_id, resume = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.current = adapter_id  # first, so a cancel from now on goes through the flag
            try:
                record = self.repository.by_id(adapter_id)
                if record is None or record.status not in ("queued", "running"):
                    continue
                self._run(record, resume)
            except Exception:
                log.exception("training job %s crashed", adapter_id)
            finally:
                self.current = None
                self.cancel_requested.discard(adapter_id)

    def _engine_call(self, coro: Any) -> Any:
        if self.loop is None:
            raise RuntimeError("the LoRA runner is not bound to the gateway's event loop")
        future: Future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(ENGINE_CALL_TIMEOUT)

    def _engine_on_gpu(self) -> bool:
        try:
            return str(self.core.engine.health().device).startswith("cuda")
        except Exception:
            return False

    def _prepare_engine_for_adapters(self, base_model: str) -> None:
        """Let an engine that adds LoRA support on first use (VLLMEngine) do it while the
        adapter trains, instead of after; training does not wait for it."""
        prepare = getattr(self.core.engine, "prepare_lora", None)
        if prepare is None or self.loop is None:
            return
        future: Future = asyncio.run_coroutine_threadsafe(prepare(base_model), self.loop)
        future.add_done_callback(_log_failure)

    def _run(self, record: AdapterRecord, resume: bool) -> None:
        from .trainer import Stopped

        adapter_id = record.id
        now = time.time()
        self.repository.update(
            adapter_id, status="running", started_at=record.started_at or now, error=None
        )
        self.repository.add_event(adapter_id, "status", message="running")
        try:
            path = self._train(record, resume)
        except Stopped as stop:
            if stop.reason == "cancel":
                self._finish(adapter_id, "cancelled", "cancelled at a step boundary")
            else:  # shutdown: keep "running" so the next start resumes it
                self.repository.add_event(
                    adapter_id, "info", message="interrupted by shutdown; resumes at next start"
                )
            return
        except Exception as exc:
            log.exception("training %s failed", adapter_id)
            self._finish(adapter_id, "failed", f"{type(exc).__name__}: {exc}", error=True)
            return
        base = self.core.find_model(record.base_model)
        if base is None or base.status != "loaded":  # unloaded while it trained
            self._finish(
                adapter_id, "succeeded", "trained; served once its base model is loaded again"
            )
            return
        try:
            self._engine_call(
                self.core.engine.load_adapter(adapter_id, str(path), record.base_model)
            )
        except Exception as exc:
            self._finish(adapter_id, "failed", f"trained, but loading failed: {exc}", error=True)
            return
        for hook in self.trained_hooks:
            self._engine_call(hook(record))
        self._finish(adapter_id, "succeeded", "trained and loaded into the engine")

    def _train(self, record: AdapterRecord, resume: bool) -> Path:
        """Trains the adapter; an engine on the GPU sleeps meanwhile and is awake again before
        the job's outcome is recorded."""
        from .trainer import TrainingJob, train

        on_gpu = self._engine_on_gpu()
        slept = False
        try:
            if on_gpu:  # free the accelerator for training (vLLM sleep mode)
                self._engine_call(self.core.engine.sleep())
                slept = True
                self.repository.add_event(record.id, "info", message="engine asleep while training")
            else:
                self._prepare_engine_for_adapters(record.base_model)
            job = TrainingJob(
                base_path=self._base_path(record.base_model),
                train=parse_jsonl(self.repository.training_file(record.id).read_bytes()),
                validation=self._validation(record.id),
                params=record.params,
                output_dir=self.repository.adapter_dir(record.id),
                checkpoint_dir=self.repository.checkpoints(record.id),
                device="cuda" if on_gpu else "cpu",
            )
            return train(job, JobCallbacks(self, record.id), resume=resume)
        finally:
            if slept:
                self._engine_call(self.core.engine.wake())

    def _finish(self, adapter_id: str, status: str, message: str, error: bool = False) -> None:
        self.repository.update(
            adapter_id, status=status, finished_at=time.time(), error=message if error else None
        )
        self.repository.add_event(adapter_id, "status", message=f"{status}: {message}")
        self.core.job_ended(job_event(self.repository, adapter_id, status))

    def _validation(self, adapter_id: str) -> list:
        path = self.repository.validation_file(adapter_id)
        if not path.exists():
            return []
        return parse_jsonl(path.read_bytes(), minimum=1, purpose="validation")

    def _base_path(self, base_model: str) -> str:
        """The base weights the engine serves (its cached local copy), so the adapter fits."""
        from ..engine import model_files

        info = self.core.find_model(base_model)
        if info is not None and info.path:
            return info.path
        return model_files.resolve(base_model)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("preparing the engine for adapters failed: %s", future.exception())


def job_event(repository: AdapterRepository, adapter_id: str, status: str) -> JobEvent:
    """The ``fine_tuning.job.<status>`` event of a finished job, named by its ``ftjob-`` id
    when it was created in OpenAI's dialect, else by the adapter's id."""
    from .fine_tuning import openai_job_id

    workspace = repository.reload(adapter_id).workspace_id
    job_id = openai_job_id(repository.store, adapter_id) or adapter_id
    return JobEvent(workspace, f"fine_tuning.job.{status}", job_id)
