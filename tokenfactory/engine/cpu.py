"""What this CPU's instruction set makes fast, read once from ``/proc/cpuinfo``; both engines
and the engine choice read it here."""

from __future__ import annotations

import functools


@functools.cache
def _proc_cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's instruction-set flags (``/proc/cpuinfo``; empty where there is none)."""
    if cpuinfo is None:
        cpuinfo = _proc_cpuinfo()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_fast_bf16(flags: frozenset[str] | None = None) -> bool:
    """bf16 is ~2x fp32 on CPUs with AVX512-BF16 or AMX; elsewhere it is emulated, and slower."""
    found = cpu_flags() if flags is None else flags
    return "avx512_bf16" in found or "amx_bf16" in found


def cpu_dtype() -> str | None:
    """The dtype a model runs in on this CPU: float32 where bf16 is slow, else the model's own
    (None). Both engines follow it; a user's ``dtype`` wins."""
    return None if cpu_has_fast_bf16() else "float32"
