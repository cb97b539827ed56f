"""Continuous batching for one chat model; runs only on the engine thread.

Each :meth:`ChatRunner.step` first admits waiting requests (best priority first) and prefills
them in one forward pass, which gives each its first token; their caches are merged into the
running batch, and then one token is decoded for every running row, the new ones included. A
request that arrives while a step runs therefore gets its first token right after that step,
never after another decode of the running batch (``first_token_waits`` counts those decodes).
Finished and aborted rows leave the batch after the step that ends them.

A request with a better priority than some running row, arriving when the batch is full,
preempts the worst running row: that row's cache is dropped and it waits again with everything
it has generated, to be prefilled (prompt + output so far) when a slot frees up.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any

import torch

from ...errors import InternalError
from ..protocol import FinishReason
from .constraints import GrammarCompiler, allocate_bitmask, apply_bitmask
from .kv import BatchCache, cache_argument, extend_mask, left_pad, merge, new_cache, select
from .loader import LoadedChatModel, peft_wrapping
from .prompt_logprobs import prompt_logprobs
from .sampler import sample
from .sequence import Sequence

BASE_ADAPTER = "__base__"  # peft's name for "no adapter" in a mixed batch


class ChatRunner:
    def __init__(
        self,
        model_id: str,
        loaded: LoadedChatModel,
        max_batch_size: int = 16,
        max_prefill_tokens: int = 2048,
    ) -> None:
        self.model_id = model_id
        self.loaded = loaded
        self.model = loaded.model
        self.cache_argument = cache_argument(loaded.model)
        self.max_batch_size = max_batch_size
        self.max_prefill_tokens = max_prefill_tokens
        self.waiting: list[tuple[tuple[int, int], Sequence]] = []
        self.running: list[Sequence] = []
        self.batch: BatchCache | None = None
        self.adapter_paths: dict[str, str] = {}
        self._grammar: GrammarCompiler | None = None
        self._lora_enabled = True
        self.pad_id = loaded.tokenizer.pad_token_id or 0
        #: decode passes of the running batch so far
        self.decode_steps = 0
        #: recent requests as (request id, decode passes of the running batch between its
        #: arrival and its first token): 0 when the first step after it arrived admitted it
        self.first_token_waits: deque[tuple[str, int]] = deque(maxlen=256)

    # -- bookkeeping ---------------------------------------------------------------------
    @property
    def grammar(self) -> GrammarCompiler:
        if self._grammar is None:
            self._grammar = GrammarCompiler(self.loaded.tokenizer, self.loaded.vocab_size)
        return self._grammar

    def add(self, seq: Sequence) -> None:
        if seq.arrived_at_step is None:
            seq.arrived_at_step = self.decode_steps
        heapq.heappush(self.waiting, (seq.sort_key, seq))

    def has_work(self) -> bool:
        return bool(self.running or self.waiting)

    def sequences(self) -> list[Sequence]:
        return self.running + [s for _, s in self.waiting]

    def step(self) -> None:
        try:
            self._drop_aborted()
            if self.waiting:
                self._admit()
            if self.running:
                self._decode()
        except Exception as exc:
            self.fail_all(InternalError(f"Generation failed on '{self.model_id}': {exc}"))
            raise

    def fail_all(self, error: BaseException) -> None:
        for seq in self.sequences():
            seq.fail(error)
        self.running, self.waiting, self.batch = [], [], None

    def preempt_all(self) -> None:
        """Drop every cache; running rows wait again (used to free memory for sleep)."""
        for seq in self.running:
            self.add(seq)
        self.running, self.batch = [], None

    # -- adapters (peft) -----------------------------------------------------------------
    @property
    def has_adapters(self) -> bool:
        return bool(self.adapter_paths)

    def load_adapter(self, name: str, path: str) -> None:
        from peft import PeftModel

        if name in self.adapter_paths:
            self.unload_adapter(name)
        if not self.adapter_paths:
            with peft_wrapping():
                self.model = PeftModel.from_pretrained(
                    self.model, path, adapter_name=name, is_trainable=False
                )
            self._lora_enabled = True
        else:
            self._set_lora_enabled(True)
            with peft_wrapping():
                self.model.load_adapter(path, adapter_name=name, is_trainable=False)
        self.model.eval()
        self._cast_adapter(name)
        self.adapter_paths[name] = path

    def _cast_adapter(self, name: str) -> None:
        """peft keeps adapter weights in float32; on a bf16/fp16 base every LoRA layer would
        then cast activations back and forth (measured ~3x slower). Serve them in the base
        model's dtype, as vLLM does."""
        dtype = self.loaded.dtype
        marker = f".{name}."
        for param_name, param in self.model.named_parameters():
            if "lora_" in param_name and marker in param_name and param.dtype != dtype:
                param.data = param.data.to(dtype)

    def unload_adapter(self, name: str) -> None:
        for seq in self.sequences():
            if seq.request.adapter == name:
                seq.aborted = True
        self._drop_aborted()
        self.adapter_paths.pop(name, None)
        self._set_lora_enabled(True)
        if not self.adapter_paths:
            self.model = self.model.unload()  # removes the LoRA layers, base weights untouched
        else:
            if self.model.active_adapter == name:  # peft warns when deleting the active one
                self.model.set_adapter(next(iter(self.adapter_paths)), inference_mode=True)
            self.model.delete_adapter(name)

    def _forward(self, rows: list[Sequence], **inputs: Any) -> Any:
        """One forward pass; with adapters loaded, each row runs with its own (or none).

        peft's per-row path (``adapter_names``) splits every LoRA layer by adapter, so it is
        kept for batches that really mix: a batch on one adapter (or on none) runs whole.
        """
        if not self.has_adapters:
            return self.model(**inputs)
        names = {s.request.adapter for s in rows}
        self._set_lora_enabled(names != {None})
        if len(names) == 1 and names != {None}:
            name = names.pop()
            if self.model.active_adapter != name:
                self.model.set_adapter(name, inference_mode=True)
            return self.model(**inputs)
        if names == {None}:
            return self.model(**inputs)
        adapter_names = [s.request.adapter or BASE_ADAPTER for s in rows]
        return self.model(**inputs, adapter_names=adapter_names)

    def _set_lora_enabled(self, enabled: bool) -> None:
        """Switch the LoRA layers on or off, only when a step needs the other state (peft
        walks every module to switch them)."""
        if enabled != self._lora_enabled:
            if enabled:
                self.model.base_model.enable_adapter_layers()
            else:
                self.model.base_model.disable_adapter_layers()
            self._lora_enabled = enabled

    # -- the step --------------------------------------------------------------------------
    def _drop_aborted(self) -> None:
        if any(s.aborted for _, s in self.waiting):
            for _, seq in self.waiting:
                if seq.aborted:
                    seq.emit([], "abort")
            self.waiting = [(k, s) for k, s in self.waiting if not s.aborted]
            heapq.heapify(self.waiting)
        if any(s.aborted for s in self.running):
            for seq in self.running:
                if seq.aborted:
                    seq.emit([], "abort")
            self._keep([i for i, s in enumerate(self.running) if not s.aborted])

    def _keep(self, rows: list[int]) -> None:
        if len(rows) == len(self.running):
            return
        self.batch = select(self.batch, rows) if self.batch is not None else None
        self.running = [self.running[i] for i in rows]

    @torch.inference_mode()
    def _decode(self) -> None:
        batch = self.batch
        if batch is None:
            raise RuntimeError("rows are running without a cache")
        device = self.loaded.device
        rows = self.running
        ids = torch.tensor([[s.output_ids[-1]] for s in rows], dtype=torch.long, device=device)
        positions = torch.tensor(
            [[len(s.all_token_ids) - 1] for s in rows], dtype=torch.long, device=device
        )
        mask = extend_mask(batch)
        out = self._forward(
            rows,
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{self.cache_argument: batch.cache},
        )
        batch.mask = mask
        self.decode_steps += 1
        self._advance(rows, out.logits[:, -1])
        self._keep([i for i, s in enumerate(self.running) if not s.finished])

    def _admit(self) -> None:
        self._preempt_for_better_priority()
        joining: list[Sequence] = []
        budget = self.max_prefill_tokens
        while self.waiting and len(self.running) + len(joining) < self.max_batch_size:
            seq = self.waiting[0][1]
            cost = len(seq.all_token_ids)
            if joining and cost > budget:
                break
            heapq.heappop(self.waiting)
            joining.append(seq)
            budget -= cost
        if joining:
            self._prefill(joining)

    def _preempt_for_better_priority(self) -> None:
        while self.waiting and len(self.running) >= self.max_batch_size:
            best_waiting = self.waiting[0][1]
            worst = max(range(len(self.running)), key=lambda i: self.running[i].sort_key)
            if best_waiting.request.priority >= self.running[worst].request.priority:
                return
            seq = self.running[worst]
            self._keep([i for i in range(len(self.running)) if i != worst])
            self.add(seq)

    @torch.inference_mode()
    def _prefill(self, joining: list[Sequence]) -> None:
        ids, mask, positions = left_pad(
            [s.all_token_ids for s in joining], self.pad_id, self.loaded.device
        )
        cache = new_cache()
        scoring = [i for i, s in enumerate(joining) if s.wants_prompt_logprobs]
        out = self._forward(
            joining,
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{self.cache_argument: cache},
            logits_to_keep=1,
            **({"output_hidden_states": True} if scoring else {}),
        )
        if scoring:
            self._score_prompts([joining[i] for i in scoring], out.hidden_states[-1][scoring])
        self.batch = merge(self.batch, BatchCache(cache, mask))
        self.running.extend(joining)
        for seq in joining:
            if not seq.output_ids and seq.arrived_at_step is not None:
                self.first_token_waits.append((seq.id, self.decode_steps - seq.arrived_at_step))
        self._advance(joining, out.logits[:, -1])
        self._keep([i for i, s in enumerate(self.running) if not s.finished])

    def _score_prompts(self, rows: list[Sequence], hidden: torch.Tensor) -> None:
        """Each row's prompt logprobs, from its (left-padded) row of final hidden states."""
        width = hidden.shape[1]
        for seq, states in zip(rows, hidden, strict=True):
            prompt = seq.request.prompt_token_ids
            start = width - len(seq.all_token_ids)
            alternatives = seq.request.prompt_logprobs or 0
            seq.prompt_logprobs = prompt_logprobs(
                self.model, states[start : start + len(prompt)], prompt, alternatives
            )

    def _advance(self, rows: list[Sequence], logits: torch.Tensor) -> None:
        """Sample one token per row, apply constraints, and emit (finishing rows that end)."""
        logits = logits.float().cpu()  # sampling and grammar masks run on the CPU
        constrained = [(i, s.constraint) for i, s in enumerate(rows) if s.constraint is not None]
        if constrained:
            bitmask = allocate_bitmask(len(rows), self.loaded.vocab_size)
            for i, constraint in constrained:
                constraint.fill_bitmask(bitmask, i)
            apply_bitmask(logits, bitmask, [i for i, _ in constrained], self.loaded.vocab_size)
        tokens = sample(logits, [s.sampler for s in rows])
        for seq, token in zip(rows, tokens, strict=True):
            seq.emit([token], self._finish_reason(seq, token))

    def _finish_reason(self, seq: Sequence, token: int) -> FinishReason | None:
        if seq.constraint is not None:
            if not seq.constraint.accept(token):
                return "length"  # cannot happen with the mask applied; never report as valid
            if seq.constraint.completed:
                return "stop"
        elif token in self.loaded.eos_token_ids and not seq.request.sampling.ignore_eos:
            return "stop"
        if len(seq.output_ids) >= seq.request.sampling.max_tokens:
            return "length"
        if len(seq.all_token_ids) >= self.loaded.context_length:
            return "length"
        return None
