"""What the workbench raises before anything runs. All are ``ValueError``s, so a notebook's
``except ValueError`` catches bad input; each names what to change."""

from __future__ import annotations


class WorkbenchError(ValueError):
    """Bad input to evaluate / extract / classify / estimate, found before any request."""


class TemplateError(WorkbenchError):
    """A template names a column the data does not have, or does not parse."""


class UnknownCandidateError(WorkbenchError):
    """A candidate names a model or adapter the gateway does not serve."""


class SchemaError(WorkbenchError):
    """A JSON Schema the gateway's grammar engine cannot enforce (its 400, before the run)."""


class CostLimitError(WorkbenchError):
    """The estimated cost is above the limit and the run was not confirmed."""
