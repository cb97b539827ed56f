"""The SDK is typed like openai-python: ``mypy --strict`` passes on it and on an example that
uses every resource (sync and async), no public resource method returns ``Any``, and the wheel
carries a ``py.typed`` marker so users' type checkers read these types."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import tokenfactory
import tokenfactory.sdk.resources as resources
from tokenfactory.sdk import AsyncTokenFactory, TokenFactory

ROOT = Path(tokenfactory.__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "typed_sdk.py"


def test_mypy_strict_passes_on_the_sdk_and_the_typed_example():
    pytest.importorskip("mypy")
    cache = ROOT / "test-artifacts" / "mypy-strict-cache"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(cache),
            "tokenfactory/sdk",
            str(EXAMPLE.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def mentions_any(annotation: Any) -> bool:
    if annotation is Any:
        return True
    return any(mentions_any(arg) for arg in typing.get_args(annotation))


def public_methods() -> dict[str, Any]:
    """``module.Class.method`` -> function, for every public class of ``sdk/resources``."""
    found = {}
    for info in pkgutil.iter_modules(resources.__path__):
        module = importlib.import_module(f"{resources.__name__}.{info.name}")
        for cls_name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            if cls_name.startswith("_"):
                continue
            for name, member in vars(cls).items():
                function = member.fget if isinstance(member, property) else member
                function = getattr(function, "func", function)  # cached_property
                if not name.startswith("_") and inspect.isfunction(function):
                    found[f"{info.name}.{cls_name}.{name}"] = (module, function)
    for cls in (TokenFactory, AsyncTokenFactory):  # the clients' own calls (tokenize, ...)
        module = importlib.import_module(cls.__module__)
        for klass in cls.__mro__[:-1]:
            for name, member in vars(klass).items():
                if not name.startswith("_") and inspect.isfunction(member):
                    found[f"{cls.__name__}.{name}"] = (module, member)
    return found


def return_type(module: Any, function: Any) -> Any:
    """The evaluated return annotation (names only imported for type checking added)."""
    names = {**vars(module), "pd": pd, "TokenFactory": TokenFactory}
    names["AsyncTokenFactory"] = AsyncTokenFactory
    annotation = function.__annotations__["return"]
    return eval(annotation, names) if isinstance(annotation, str) else annotation


def test_no_public_resource_method_returns_any():
    methods = public_methods()
    assert len(methods) > 40
    untyped = sorted(
        name for name, (module, fn) in methods.items() if mentions_any(return_type(module, fn))
    )
    assert untyped == []


def test_every_resource_has_a_sync_and_an_async_class():
    names = ("chat", "completions", "embeddings", "models", "batches", "adapters")
    for name in (*names, "files", "fine_tuning", "usage", "admin"):
        sync, other = getattr(TokenFactory, name), getattr(AsyncTokenFactory, name)
        sync_cls = typing.get_type_hints(sync.func)["return"]
        async_cls = typing.get_type_hints(other.func)["return"]
        assert async_cls.__name__ == "Async" + sync_cls.__name__
        for method, fn in vars(async_cls).items():
            if not method.startswith("_") and inspect.isfunction(fn):
                assert inspect.iscoroutinefunction(fn), f"{async_cls.__name__}.{method}"


def test_the_package_ships_a_py_typed_marker():
    assert (ROOT / "tokenfactory" / "py.typed").is_file()
    tomllib = pytest.importorskip("tomllib")
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    wheel = wheel["targets"]["wheel"]
    assert wheel["packages"] == ["tokenfactory"]  # the whole folder, py.typed included
    assert not {"exclude", "only-include"} & set(wheel)
