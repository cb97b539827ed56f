"""A PEFT LoRA folder trained elsewhere, read for ``POST /v1/adapters/import``.

Importing by path is an admin's operation (the route checks), and the folder may not lie
inside the gateway's data directory: that is where every workspace's trained adapters and
training data live, and an import must not hand one workspace's work to another. Everything
read from the folder is checked: a broken ``adapter_config.json`` or a folder without weights
is a 400 naming ``path``, never a half-registered adapter or a 500.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError
from ..wire.json_limits import loads

CONFIG_FILE = "adapter_config.json"
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")
MAX_CONFIG_BYTES = 1024 * 1024
MAX_RANK = 1024


@dataclass(frozen=True)
class PeftFolder:
    path: Path
    config: dict[str, Any]
    rank: int
    alpha: float
    dropout: float

    @property
    def files(self) -> list[Path]:
        return [self.path / f for f in (CONFIG_FILE, *WEIGHT_FILES) if (self.path / f).is_file()]


def _bad(source: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(f"Cannot import the adapter at {source}: {why}", param="path")


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def read_peft_folder(source: str, forbidden_roots: list[Path]) -> PeftFolder:
    """The folder at ``source``, checked; ``forbidden_roots`` are the data directories."""
    folder = Path(source).expanduser().resolve()
    if any(_inside(folder, root.resolve()) for root in forbidden_roots):
        raise _bad(
            source, "it lies inside the gateway's data directory; import a folder of your own"
        )
    config_file = folder / CONFIG_FILE
    if not config_file.is_file():
        raise InvalidRequestError(
            f"No PEFT adapter at {source} ({CONFIG_FILE} missing)", param="path"
        )
    if config_file.stat().st_size > MAX_CONFIG_BYTES:
        raise _bad(source, f"{CONFIG_FILE} is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        config = loads(config_file.read_bytes(), where=CONFIG_FILE)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _bad(source, f"{CONFIG_FILE} is not UTF-8 JSON ({exc})") from None
    except InvalidRequestError as exc:
        raise _bad(source, exc.message) from None
    if not isinstance(config, dict):
        raise _bad(source, f"{CONFIG_FILE} must hold a JSON object")
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        raise _bad(
            source, f"only LoRA adapters can be imported (this one is {config.get('peft_type')})"
        )
    rank = config.get("r", 16)
    if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= MAX_RANK:
        raise _bad(source, f"'r' in {CONFIG_FILE} must be an integer from 1 to {MAX_RANK}")
    alpha = _number(config, "lora_alpha", 2 * rank, source, low=0, high=1e6)
    dropout = _number(config, "lora_dropout", 0.0, source, low=0, high=1)
    if not any((folder / f).is_file() for f in WEIGHT_FILES):
        raise _bad(source, f"no weights ({' or '.join(WEIGHT_FILES)})")
    return PeftFolder(folder, config, rank, alpha, dropout)


def _number(config: dict, key: str, default: float, source: str, low: float, high: float) -> float:
    value = config.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not low <= value <= high:
        raise _bad(source, f"'{key}' in {CONFIG_FILE} must be a number from {low} to {high}")
    return float(value)
