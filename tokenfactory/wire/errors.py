"""The error body every failing response carries."""

from __future__ import annotations

from .common import WireModel


class ErrorDetail(WireModel):
    message: str
    type: str
    code: str | None = None
    param: str | None = None


class ErrorResponse(WireModel):
    error: ErrorDetail
