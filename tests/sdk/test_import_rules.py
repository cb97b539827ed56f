"""The SDK stands alone: no SDK module imports the server side, the widgets or LoRA training;
the server never imports the SDK; the widgets raise the SDK's errors, never the server's; and
the server's and the SDK's exception classes share no name (one vocabulary per side)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import tokenfactory
from tokenfactory.sdk import _errors as sdk_errors

PACKAGE = Path(tokenfactory.__file__).parent

SDK_MAY_NOT_IMPORT = (
    "tokenfactory.widgets",
    "tokenfactory.lora",
    "tokenfactory.gateway",
    "tokenfactory.engine",
    "tokenfactory.services",
    "tokenfactory.batch",
    "tokenfactory.store",
    "tokenfactory.server",
    "tokenfactory.errors",
)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file, as an absolute name."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def offending(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        hits = sorted(
            name
            for name in imports_of(path)
            if any(name == f or name.startswith(f + ".") for f in forbidden)
        )
        if hits:
            bad[str(path.relative_to(PACKAGE))] = hits
    return bad


def test_the_sdk_imports_nothing_from_the_server_side_widgets_or_lora():
    assert offending("sdk", SDK_MAY_NOT_IMPORT) == {}


def test_the_widgets_raise_the_sdk_errors_not_the_servers():
    assert offending("widgets", ("tokenfactory.errors",)) == {}


def test_the_rule_sees_relative_and_function_level_imports(tmp_path):
    source = PACKAGE / "sdk" / "resources" / "chat.py"
    names = imports_of(source)
    assert "tokenfactory.sdk._resource" in names  # `from .._resource import Resource`


# the client side: modules that talk to a gateway through the SDK; and the package's facade
# (``tokenfactory/__init__.py`` resolves ``tf.TokenFactory`` lazily and names it for checkers)
CLIENT_SIDE = ("sdk", "widgets", "workbench", "magics.py", "cli_batch.py", "__init__.py")


def test_nothing_but_the_client_side_imports_the_sdk():
    bad = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in CLIENT_SIDE:
            continue
        hits = sorted(n for n in imports_of(path) if n.startswith("tokenfactory.sdk"))
        if hits:
            bad[str(relative)] = hits
    assert bad == {}, "server-side code imports the SDK"


def sdk_exception_names() -> set[str]:
    return {
        name
        for name, value in vars(sdk_errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == sdk_errors.__name__
    }


def test_no_exception_outside_the_sdk_takes_an_sdk_error_name():
    sdk_names = sdk_exception_names()
    assert {"APIStatusError", "NotFoundError", "RateLimitError"} <= sdk_names
    clashes = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "sdk":
            continue
        tree = ast.parse(path.read_text(), str(path))
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
        if defined & sdk_names:
            clashes[str(relative)] = sorted(defined & sdk_names)
    assert clashes == {}
