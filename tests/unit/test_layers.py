"""The import rules of the package's layers, checked over every module's source (ast).

The layers are ``tests/import_graph.py``'s table (drawn in docs/architecture.md): no folder
imports a folder above it, no import circle spans folders, and the kernel (``core/``) names no
service or feature. Everything below the gateway (services, batch, LoRA, usage, rate limits,
store, engines, wire types) imports neither the gateway package nor FastAPI/Starlette: it is
used from a route, a batch line, the CLI or a test alike. Imports inside functions and under
``TYPE_CHECKING`` count too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tokenfactory
from tests.import_graph import LAYERS, folder_of, measure, modules, strongly_connected

PACKAGE = Path(tokenfactory.__file__).parent
BELOW_THE_GATEWAY = (
    "core", "services", "batch", "lora", "usage", "ratelimit", "store", "engine", "wire", "remote",
)  # fmt: skip
FORBIDDEN = ("tokenfactory.gateway", "fastapi", "starlette")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement names, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def layer_modules() -> list[Path]:
    return sorted(p for layer in BELOW_THE_GATEWAY for p in (PACKAGE / layer).rglob("*.py"))


def test_the_resolver_sees_relative_and_nested_imports():
    source = "def f():\n    from ..gateway import app\n    from .. import gateway\n"
    names = [n for _, n in imported_modules(source, "tokenfactory.batch.runner", False)]
    assert "tokenfactory.gateway" in names and "tokenfactory.gateway.app" in names
    assert forbidden("tokenfactory.gateway") and forbidden("fastapi.responses")
    assert not forbidden("tokenfactory.gateways_helper")


def test_nothing_below_the_gateway_imports_it_or_fastapi():
    modules = layer_modules()
    assert len(modules) > 60  # every layer's modules, not an empty glob
    offences = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for path in modules
        for line, name in imported_modules(
            path.read_text(), module_name(path), path.name == "__init__.py"
        )
        if forbidden(name)
    ]
    assert offences == []


def test_importing_the_core_and_its_features_loads_no_web_framework():
    code = (
        "import sys\n"
        "import tokenfactory.core, tokenfactory.features, tokenfactory.batch.service,"
        " tokenfactory.lora.service, tokenfactory.usage, tokenfactory.services.embeddings\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')"
        " or m.startswith('tokenfactory.gateway'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_folder_has_a_layer():
    assert {folder_of(m) for m in modules()} <= set(LAYERS)


def test_the_measure_sees_circles_and_upward_arrows():
    nodes = {"a", "b", "c", "d"}
    circles = strongly_connected(nodes, {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")})
    assert circles == [{"a", "b", "c"}]
    assert strongly_connected(nodes, {("a", "b"), ("b", "c")}) == []


def test_the_kernel_names_nothing_above_it():
    above = {"services", "batch", "lora", "usage", "ratelimit", "remote", "gateway", "sdk"}
    offences = sorted(
        f"{a} imports {b}"
        for a, b in measure().module_arrows
        if folder_of(a) == "core" and folder_of(b) in above
    )
    assert offences == []


def test_no_upward_import_and_no_circle_across_folders():
    graph = measure()
    print(graph.summary())  # the counts, for a reader of -s output
    assert sorted(f"{a} imports {b}" for a, b in graph.upward) == []
    assert [sorted(c) for c in graph.module_circles] == []
    assert graph.circles == []


def test_the_whiteboard_names_every_folder_in_its_layer():
    """docs/architecture.md's table puts each folder in the layer LAYERS gives it."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    rows = {
        int(line.split("|")[1].split()[0]): line.split("|")[2]
        for line in doc.splitlines()
        if line.startswith("| ") and line.split("|")[1].split()[0].isdigit()
    }
    for folder, layer in LAYERS.items():
        names = (f"`{folder}/`", f"`{folder}.py`", f"`{folder}` ", f"`{folder}.py`,")
        if folder.startswith("cli"):
            names += ("`cli*.py`",)
        assert any(n in rows[layer] for n in names), f"{folder} not in layer {layer}'s row"
