"""Register ``df.tf`` when pandas is imported, without importing pandas ourselves.

``import tokenfactory`` must stay light, and pandas takes a while to import. If pandas is
already loaded the accessor is registered at once; otherwise a finder on ``sys.meta_path``
waits for ``import pandas`` and registers it right after pandas has finished loading.
Standard library only.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any


def _register() -> None:
    try:
        from .workbench.accessor import register

        register()
    except Exception:  # a convenience never breaks an import
        return


class _PandasWatcher(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> Any:
        if fullname != "pandas":
            return None
        # ``importlib.util.find_spec("pandas")`` (torch does it) asks without importing: stay
        # on the path until pandas has really been executed
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            _register()

        loader.exec_module = exec_module
        return spec


def install() -> None:
    if "pandas" in sys.modules:
        _register()
    elif not any(isinstance(f, _PandasWatcher) for f in sys.meta_path):
        sys.meta_path.insert(0, _PandasWatcher())
