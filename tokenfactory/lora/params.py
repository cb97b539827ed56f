"""What a user chose when creating an adapter. The API's ranges are declared once, on the
request's wire model (``wire.adapters.AdapterCreate``): a value out of range is a 400 naming
the field (``param``), so the SDK and the widgets can point at it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InvalidRequestError
from ..wire.adapters import NAME_PATTERN

NAME = re.compile(NAME_PATTERN)


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


def check_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not name:
        raise InvalidRequestError(f"Missing required parameter: '{field}'", param=field)
    if not NAME.match(name):
        raise InvalidRequestError(
            f"'{field}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter"
            f" or digit (got {name!r})",
            param=field,
            code="invalid_parameter",
        )
    return name
