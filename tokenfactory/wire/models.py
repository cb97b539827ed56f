"""The model catalog as ``/v1/models`` returns it."""

from __future__ import annotations

from typing import Literal

from .common import WireModel


class Model(WireModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "tokenfactory"
    provider: str | None = None
    modality: str | None = None
    status: str | None = None
    engine: str | None = None
    context_length: int | None = None
    size_bytes: int | None = None
    parent: str | None = None
    adapters: list[str] = []
    #: set on an alias (``--alias NAME=MODEL``): the served model it names
    alias_for: str | None = None


class ModelAlias(WireModel):
    """An alias as ``/v1/admin/aliases`` shows it: ``alias`` answers as ``model``."""

    object: Literal["model.alias"] = "model.alias"
    alias: str
    model: str


class ModelAliasList(WireModel):
    object: Literal["list"] = "list"
    data: list[ModelAlias]


class ModelList(WireModel):
    object: Literal["list"] = "list"
    data: list[Model]
