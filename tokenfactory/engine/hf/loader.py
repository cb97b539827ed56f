"""Load chat and embedding models with transformers, choosing device and dtype."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch

from ...errors import InvalidRequestError, ModelNotFoundError
from .. import cpu, model_files
from ..model_files import Modality

#: Contexts larger than this are capped: the CPU engine is not meant for 128k prompts, and a
#: tokenizer's ``model_max_length`` is often a huge sentinel.
MAX_CONTEXT = 32768


@contextmanager
def peft_wrapping() -> Iterator[None]:
    """Around peft's wrapping of a model (``get_peft_model``, ``PeftModel.from_pretrained``,
    ``load_adapter``). peft (0.21, the latest) reads ``model.is_gradient_checkpointing`` there,
    a property that transformers 5.2x deprecated for ``is_activation_checkpointing``; our code
    never reads it, so that one warning (and only that one, only here) is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
        )
        yield


def pick_device(device: str | None = None) -> str:
    if device and device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, dtype: str | torch.dtype | None = None) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype and dtype != "auto":
        try:
            return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
                dtype
            ]
        except KeyError:
            raise InvalidRequestError(f"Unknown dtype {dtype!r}") from None
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu.cpu_has_fast_bf16() else torch.float32


def detect_modality(source: str) -> Modality:
    """An embedding model is a sentence-transformers folder or a config without a LM head."""
    if model_files.PACKAGED_MODELS.get(source):
        return model_files.PACKAGED_MODELS[source].modality
    source = model_files.resolve(source)  # a local folder, or ModelNotFoundError at once
    path = Path(source)
    if (path / "modules.json").exists():
        return "embedding"
    from transformers import AutoConfig

    config = _from_pretrained(AutoConfig, source)
    arches = getattr(config, "architectures", None) or []
    if any(a.endswith(("ForCausalLM", "ForConditionalGeneration")) for a in arches):
        return "chat"
    return "embedding"


@dataclass
class LoadedChatModel:
    model: Any
    tokenizer: Any
    context_length: int
    vocab_size: int
    eos_token_ids: frozenset[int]
    device: str
    dtype: torch.dtype
    path: str


@dataclass
class LoadedEmbeddingModel:
    model: Any
    tokenizer: Any
    max_tokens: int
    dimensions: int
    pooling: str  # "mean" or "cls"
    normalize: bool
    device: str
    dtype: torch.dtype
    path: str


def _from_pretrained(loader: Any, source: str, **kwargs: Any) -> Any:
    try:
        return loader.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"Model '{source}' could not be found or loaded: {str(exc).splitlines()[0]}"
        ) from exc


class _Opened(NamedTuple):
    source: str
    device: str
    dtype: torch.dtype
    tokenizer: Any
    model: Any


def _open(
    auto_model: Any, model_id: str, device: str | None, dtype: str | torch.dtype | None
) -> _Opened:
    """The files found, device and dtype chosen, tokenizer and weights loaded for inference."""
    from transformers import AutoTokenizer

    source = model_files.resolve(model_id)
    device = pick_device(device)
    torch_dtype = pick_dtype(device, dtype)
    tokenizer = _from_pretrained(AutoTokenizer, source)
    model = _from_pretrained(auto_model, source, dtype=torch_dtype)
    model.to(device).eval()
    return _Opened(source, device, torch_dtype, tokenizer, model)


def load_chat_model(
    model_id: str, device: str | None = None, dtype: str | torch.dtype | None = None
) -> LoadedChatModel:
    from transformers import AutoModelForCausalLM

    source, device, torch_dtype, tokenizer, model = _open(
        AutoModelForCausalLM, model_id, device, dtype
    )
    config = model.config.get_text_config()
    context = getattr(config, "max_position_embeddings", None) or tokenizer.model_max_length
    context = int(min(context, MAX_CONTEXT))
    tokenizer.model_max_length = context
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LoadedChatModel(
        model=model,
        tokenizer=tokenizer,
        context_length=context,
        vocab_size=int(config.vocab_size),
        eos_token_ids=_eos_ids(model, tokenizer),
        device=device,
        dtype=torch_dtype,
        path=source,
    )


def _eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    ids: set[int] = set()
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (gen_eos, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return frozenset(ids)


def load_embedding_model(
    model_id: str, device: str | None = None, dtype: str | torch.dtype | None = None
) -> LoadedEmbeddingModel:
    from transformers import AutoModel

    source, device, torch_dtype, tokenizer, model = _open(AutoModel, model_id, device, dtype)
    pooling, normalize, max_seq = _sentence_transformers_config(Path(source))
    positions = getattr(model.config, "max_position_embeddings", None) or 512
    max_tokens = int(min(max_seq or positions, positions, MAX_CONTEXT))
    return LoadedEmbeddingModel(
        model=model,
        tokenizer=tokenizer,
        max_tokens=max_tokens,
        dimensions=int(model.config.hidden_size),
        pooling=pooling,
        normalize=normalize,
        device=device,
        dtype=torch_dtype,
        path=source,
    )


def _sentence_transformers_config(folder: Path) -> tuple[str, bool, int | None]:
    """Pooling mode, normalisation and max length from a sentence-transformers folder.

    Without those files: mean pooling, normalised vectors (the common convention)."""
    pooling, normalize, max_seq = "mean", True, None
    modules_file = folder / "modules.json"
    if modules_file.exists():
        modules = json.loads(modules_file.read_text())
        normalize = any(m.get("type", "").endswith("Normalize") for m in modules)
        for module in modules:
            if module.get("type", "").endswith("Pooling"):
                cfg_file = folder / module.get("path", "") / "config.json"
                if cfg_file.exists():
                    cfg = json.loads(cfg_file.read_text())
                    if cfg.get("pooling_mode_cls_token"):
                        pooling = "cls"
    st_config = folder / "sentence_bert_config.json"
    if st_config.exists():
        max_seq = json.loads(st_config.read_text()).get("max_seq_length")
    return pooling, normalize, max_seq
