"""What a user chooses when creating an adapter, checked against the API's ranges.

A value out of range is a 400 naming the field (``param``), so the SDK and the widgets can
point at it.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InvalidRequestError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RANKS = (8, 16, 32, 64)
EPOCHS = (1, 10)
LEARNING_RATE = (0.0001, 0.001)
DROPOUT = (0.0, 0.5)
BATCH_SIZE = (1, 64)
MAX_TOKENS = (32, 8192)


@dataclass(frozen=True)
class TrainingParams:
    epochs: int = 3
    learning_rate: float = 0.0002
    rank: int = 16
    alpha: float = 32
    dropout: float = 0.05
    batch_size: int = 4
    max_tokens: int = 1024  # longer examples are truncated
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingParams:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _number(body: dict, field: str, default: Any, *, integer: bool = False) -> Any:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"'{field}' must be a number (got {value!r})", param=field, code="invalid_parameter"
        )
    if not math.isfinite(value):
        raise InvalidRequestError(
            f"'{field}' must be finite", param=field, code="invalid_parameter"
        )
    if integer:
        if value != int(value):
            raise InvalidRequestError(
                f"'{field}' must be a whole number (got {value})",
                param=field,
                code="invalid_parameter",
            )
        return int(value)
    return float(value)


def _in_range(field: str, value: float, bounds: tuple[float, float]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise InvalidRequestError(
            f"'{field}' must be between {low:g} and {high:g} (got {value:g})",
            param=field,
            code="invalid_parameter",
        )


def check_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not name:
        raise InvalidRequestError(f"Missing required parameter: '{field}'", param=field)
    if not NAME_PATTERN.match(name):
        raise InvalidRequestError(
            f"'{field}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter"
            f" or digit (got {name!r})",
            param=field,
            code="invalid_parameter",
        )
    return name


def training_params(body: dict[str, Any]) -> TrainingParams:
    """The training parameters of a create request, defaults filled in, ranges checked."""
    epochs = _number(body, "epochs", 3, integer=True)
    _in_range("epochs", epochs, EPOCHS)
    lr = _number(body, "learning_rate", 0.0002)
    _in_range("learning_rate", lr, LEARNING_RATE)
    rank = _number(body, "rank", 16, integer=True)
    if rank not in RANKS:
        raise InvalidRequestError(
            f"'rank' must be one of {', '.join(map(str, RANKS))} (got {rank})",
            param="rank",
            code="invalid_parameter",
        )
    alpha = _number(body, "alpha", 2 * rank)
    if alpha <= 0 or alpha > 4 * 64:
        raise InvalidRequestError(
            f"'alpha' must be above 0 and at most 256 (got {alpha:g})",
            param="alpha",
            code="invalid_parameter",
        )
    dropout = _number(body, "dropout", 0.05)
    _in_range("dropout", dropout, DROPOUT)
    batch_size = _number(body, "batch_size", 4, integer=True)
    _in_range("batch_size", batch_size, BATCH_SIZE)
    max_tokens = _number(body, "max_tokens", 1024, integer=True)
    _in_range("max_tokens", max_tokens, MAX_TOKENS)
    seed = _number(body, "seed", 0, integer=True)
    return TrainingParams(
        epochs=epochs,
        learning_rate=lr,
        rank=rank,
        alpha=alpha,
        dropout=dropout,
        batch_size=batch_size,
        max_tokens=max_tokens,
        seed=seed,
    )
