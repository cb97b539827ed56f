"""tokenfactory: a Jupyter-native LLM workbench.

``import tokenfactory as tf`` is cheap: torch, transformers, peft and vllm load only when an
engine or a trainer starts. Public names resolve lazily from the modules listed in ``_LAZY``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

if TYPE_CHECKING:  # what a type checker sees of the lazy names: the SDK's own types
    from . import extras as _extras
    from . import sdk as _sdk

    MissingExtraError = _extras.MissingExtraError
    APIConnectionError = _sdk.APIConnectionError
    APIError = _sdk.APIError
    APIResponseValidationError = _sdk.APIResponseValidationError
    APIStatusError = _sdk.APIStatusError
    APITimeoutError = _sdk.APITimeoutError
    AsyncStream = _sdk.AsyncStream
    AsyncTokenFactory = _sdk.AsyncTokenFactory
    AuthenticationError = _sdk.AuthenticationError
    BadRequestError = _sdk.BadRequestError
    ConfigurationError = _sdk.ConfigurationError
    ConflictError = _sdk.ConflictError
    InsufficientBalanceError = _sdk.InsufficientBalanceError
    InternalServerError = _sdk.InternalServerError
    NotFoundError = _sdk.NotFoundError
    PermissionDeniedError = _sdk.PermissionDeniedError
    RateLimitError = _sdk.RateLimitError
    RetryPolicy = _sdk.RetryPolicy
    ServiceUnavailableError = _sdk.ServiceUnavailableError
    Stream = _sdk.Stream
    TokenFactory = _sdk.TokenFactory
    TokenFactoryError = _sdk.TokenFactoryError
    map_prompts = _sdk.map_prompts


# public name -> module that defines it
_LAZY: dict[str, str] = {
    "serve": "tokenfactory.server",
    "ServerHandle": "tokenfactory.server",
    "Playground": "tokenfactory.widgets.playground",
    "ModelLibrary": "tokenfactory.widgets.model_library",
    "TrainingMonitor": "tokenfactory.widgets.training_monitor",
    "compare_adapter": "tokenfactory.widgets.compare",
    "UsageDashboard": "tokenfactory.widgets.usage_dashboard",
    "BatchMonitor": "tokenfactory.widgets.batch_monitor",
    "WorkspaceAdmin": "tokenfactory.widgets.workspace_admin",
    # the workbench: evaluate, compare, extract, estimate (tokenfactory/workbench/)
    "evaluate": "tokenfactory.workbench.evaluate",
    "candidate": "tokenfactory.workbench.candidates",
    "checkpoints": "tokenfactory.workbench.candidates",
    "judge": "tokenfactory.workbench.judge",
    "EvalResult": "tokenfactory.workbench.result",
    "estimate": "tokenfactory.workbench.estimate",
    "EvalGrid": "tokenfactory.widgets.eval_grid",
    "Estimate": "tokenfactory.workbench.estimate",
    "MissingExtraError": "tokenfactory.extras",  # a missing pip extra, server or client side
    # the Python SDK
    "TokenFactory": "tokenfactory.sdk",
    "AsyncTokenFactory": "tokenfactory.sdk",
    "map_prompts": "tokenfactory.sdk",
    "Stream": "tokenfactory.sdk",
    "AsyncStream": "tokenfactory.sdk",
    "RetryPolicy": "tokenfactory.sdk",
    "TokenFactoryError": "tokenfactory.sdk",
    "ConfigurationError": "tokenfactory.sdk",
    "ConflictError": "tokenfactory.sdk",
    "APIError": "tokenfactory.sdk",
    "APIStatusError": "tokenfactory.sdk",
    "APIConnectionError": "tokenfactory.sdk",
    "APITimeoutError": "tokenfactory.sdk",
    "APIResponseValidationError": "tokenfactory.sdk",
    "BadRequestError": "tokenfactory.sdk",
    "AuthenticationError": "tokenfactory.sdk",
    "InsufficientBalanceError": "tokenfactory.sdk",
    "NotFoundError": "tokenfactory.sdk",
    "RateLimitError": "tokenfactory.sdk",
    "InternalServerError": "tokenfactory.sdk",
    "PermissionDeniedError": "tokenfactory.sdk",
    "ServiceUnavailableError": "tokenfactory.sdk",
}

# public name -> a module offered whole (``tf.metrics.exact_match()``, ``tf.webhooks.verify()``)
_MODULES: dict[str, str] = {
    "metrics": "tokenfactory.workbench.metrics",
    "webhooks": "tokenfactory.webhooks",
}

__all__ = sorted(["__version__", *_LAZY, *_MODULES])


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tokenfactory' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_MODULES))


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension shipped in the wheel."""
    return [{"src": "labextension", "dest": "tokenfactory"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Jupyter server extension listing running gateways (``tokenfactory.jupyter``)."""
    return [{"module": "tokenfactory.jupyter"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext tokenfactory``: registers the ``%%tf_batch`` cell magic."""
    from .magics import load_ipython_extension as load

    load(ipython)


def _register_magics_if_in_ipython() -> None:
    """Inside IPython/Jupyter, ``import tokenfactory`` makes ``%%tf_batch`` available at once."""
    import sys

    ipython = sys.modules.get("IPython")
    if ipython is None:
        return
    try:
        shell = ipython.get_ipython()
        if shell is not None and "tf_batch" not in shell.magics_manager.magics.get("cell", {}):
            load_ipython_extension(shell)
    except Exception:  # never let a convenience break the import
        return


_register_magics_if_in_ipython()


def _register_dataframe_accessor() -> None:
    """``df.tf.extract`` / ``df.tf.classify``: registered once pandas is imported."""
    from ._pandas_hook import install

    install()


_register_dataframe_accessor()
