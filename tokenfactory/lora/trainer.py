"""The LoRA training loop (PEFT + torch), run by :mod:`.service` on a background thread.

A plain loop rather than ``transformers.Trainer``: it reports the loss at every step, stops at
a step boundary when asked (cancel, shutdown), and writes a checkpoint at the end of every
epoch (adapter weights, optimizer state, step) from which :func:`train` resumes exactly.
The batch order of an epoch depends only on the seed and the epoch number, so a resumed run
sees the same batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from ..engine.hf.loader import peft_wrapping
from .masking import IGNORE, TokenizedExample, tokenize_all
from .params import TrainingParams

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
STATE_FILE = "trainer_state.json"
OPTIMIZER_FILE = "optimizer.pt"


class Stopped(Exception):
    """Training stopped at a step boundary; ``reason`` is what the callbacks asked for."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Callbacks(Protocol):
    def started(self, total_steps: int, step: int, epoch: int) -> None: ...

    def step(self, step: int, epoch: int, loss: float) -> None: ...

    def epoch_done(self, epoch: int, step: int, validation_loss: float | None) -> None: ...

    def stop_reason(self) -> str | None: ...


@dataclass
class TrainingJob:
    base_path: str  # a local model folder (the engine's cached copy of the base model)
    train: list[list[dict]]
    params: TrainingParams
    output_dir: Path
    checkpoint_dir: Path
    validation: list[list[dict]] = field(default_factory=list)
    device: str = "cpu"


@dataclass
class Checkpoint:
    path: Path
    epoch: int
    step: int


def steps_per_epoch(examples: int, batch_size: int) -> int:
    return math.ceil(examples / batch_size)


def latest_checkpoint(folder: Path) -> Checkpoint | None:
    found = []
    for path in folder.glob("epoch-*"):
        state = path / STATE_FILE
        if state.exists():
            data = json.loads(state.read_text())
            found.append(Checkpoint(path, int(data["epoch"]), int(data["step"])))
    return max(found, key=lambda c: c.epoch, default=None)


def pick_target_modules(model: Any) -> list[str] | str:
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    chosen = [m for m in TARGET_MODULES if m in names]
    return chosen if chosen else "all-linear"


def load_model(job: TrainingJob, checkpoint: Checkpoint | None) -> tuple[Any, Any]:
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(job.base_path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    base = AutoModelForCausalLM.from_pretrained(job.base_path, dtype=torch.float32)
    base.to(job.device)  # type: ignore[arg-type]  # transformers 5 types the wrapped .to() unbound
    if checkpoint is not None:
        with peft_wrapping():
            model = PeftModel.from_pretrained(base, str(checkpoint.path), is_trainable=True)
    else:
        torch.manual_seed(job.params.seed)
        config = LoraConfig(
            r=job.params.rank,
            lora_alpha=job.params.alpha,  # type: ignore[arg-type]  # peft says int; uses any number
            lora_dropout=job.params.dropout,
            target_modules=pick_target_modules(base),
            task_type="CAUSAL_LM",
        )
        with peft_wrapping():
            model = get_peft_model(base, config)
    model.train()
    return model, tokenizer


def collate(items: list[TokenizedExample], pad_id: int, device: str) -> dict[str, torch.Tensor]:
    width = max(len(item.input_ids) for item in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, item in enumerate(items):
        n = len(item.input_ids)
        ids[row, :n] = torch.tensor(item.input_ids)
        labels[row, :n] = torch.tensor(item.labels)
        mask[row, :n] = 1
    return {
        "input_ids": ids.to(device),
        "attention_mask": mask.to(device),
        "labels": labels.to(device),
    }


def epoch_batches(
    items: list[TokenizedExample], batch_size: int, seed: int, epoch: int
) -> list[list[TokenizedExample]]:
    order = list(range(len(items)))
    random.Random(seed * 100003 + epoch).shuffle(order)
    return [[items[i] for i in order[s : s + batch_size]] for s in range(0, len(order), batch_size)]


def evaluate(
    model: Any, items: list[TokenizedExample], batch_size: int, pad_id: int, device: str
) -> float | None:
    """Mean loss per supervised token over ``items`` (None without items)."""
    if not items:
        return None
    model.eval()
    total, tokens = 0.0, 0
    with torch.inference_mode():
        for s in range(0, len(items), batch_size):
            batch = collate(items[s : s + batch_size], pad_id, device)
            n = int((batch["labels"][:, 1:] != IGNORE).sum())
            total += float(model(**batch).loss) * n
            tokens += n
    model.train()
    return total / max(tokens, 1)


def save_checkpoint(model: Any, optimizer: Any, folder: Path, epoch: int, step: int) -> Path:
    """Write ``epoch-N`` atomically; every epoch's checkpoint is kept (each is servable as
    ``ADAPTER@epoch-N``, see ``lora/checkpoints.py``)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".epoch-{epoch}.", dir=folder))
    model.save_pretrained(str(tmp))
    torch.save(optimizer.state_dict(), tmp / OPTIMIZER_FILE)
    (tmp / STATE_FILE).write_text(json.dumps({"epoch": epoch, "step": step}))
    target = folder / f"epoch-{epoch}"
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


def save_adapter(model: Any, output_dir: Path) -> Path:
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".adapter.", dir=output_dir.parent))
    model.save_pretrained(str(tmp))
    shutil.rmtree(output_dir, ignore_errors=True)
    os.replace(tmp, output_dir)
    return output_dir


def train(job: TrainingJob, callbacks: Callbacks, *, resume: bool = True) -> Path:
    """Train (or resume) and save the adapter to ``job.output_dir``; returns that folder.

    Raises :class:`Stopped` when ``callbacks.stop_reason()`` answers at a step boundary.
    """
    params = job.params
    checkpoint = latest_checkpoint(job.checkpoint_dir) if resume else None
    if not resume:
        shutil.rmtree(job.checkpoint_dir, ignore_errors=True)
    model, tokenizer = load_model(job, checkpoint)
    pad_id = tokenizer.pad_token_id
    train_items = tokenize_all(tokenizer, job.train, params.max_tokens)
    valid_items = tokenize_all(tokenizer, job.validation, params.max_tokens)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.0)
    per_epoch = steps_per_epoch(len(train_items), params.batch_size)
    total = per_epoch * params.epochs
    step, first_epoch = 0, 1
    if checkpoint is not None:
        optimizer.load_state_dict(torch.load(checkpoint.path / OPTIMIZER_FILE))
        step, first_epoch = checkpoint.step, checkpoint.epoch + 1
    callbacks.started(total, step, first_epoch - 1)
    for epoch in range(first_epoch, params.epochs + 1):
        for batch in epoch_batches(train_items, params.batch_size, params.seed, epoch):
            reason = callbacks.stop_reason()
            if reason:
                raise Stopped(reason)
            loss = model(**collate(batch, pad_id, job.device)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            callbacks.step(step, epoch, float(loss.detach()))
        validation_loss = evaluate(model, valid_items, params.batch_size, pad_id, job.device)
        save_checkpoint(model, optimizer, job.checkpoint_dir, epoch, step)
        callbacks.epoch_done(epoch, step, validation_loss)
    return save_adapter(model, job.output_dir)
