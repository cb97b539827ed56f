"""The SDK stands alone: no SDK module imports the server side, the widgets or LoRA training;
the widgets raise the SDK's errors, never the server's (one error tree for users)."""

from __future__ import annotations

import ast
from pathlib import Path

import tokenfactory

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
