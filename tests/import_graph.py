"""The package's import graph across top-level folders, read from the source (ast).

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``. A
top-level module (``errors.py``) is a folder of its own. :func:`measure` gives the numbers
``tests/unit/test_layers.py`` asserts on; ``python -m tests.import_graph`` prints them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import tokenfactory

PACKAGE = Path(tokenfactory.__file__).parent
ROOT = PACKAGE.name

#: The layers, highest first (docs/architecture.md draws them): a folder imports only folders
#: in lower layers, or its own layer's where ``SIDEWAYS_LAYERS`` says so.
LAYERS: dict[str, int] = {
    # the doors, and the assembly of the application
    **dict.fromkeys(
        ["__init__", "_pandas_hook", "cli", "cli_batch", "cli_keys", "cli_serve", "cli_webhooks",
         "cli_workspaces", "server", "runtime", "features", "jupyter", "widgets", "magics",
         "templates", "workbench"],
        7,
    ),
    # the HTTP gateway; the SDK (a client, beside it) and the optional-extras check
    **dict.fromkeys(["gateway", "sdk", "extras"], 6),
    # features, each plugged into the core through its ports
    **dict.fromkeys(["batch", "lora", "usage", "ratelimit", "remote", "webhooks", "responses"], 5),
    # inference: chat, completions, embeddings (no HTTP)
    "services": 4,
    # the kernel: records, ports, the endpoint table, validation
    "core": 3,
    "store": 2,
    # engines and wire models
    **dict.fromkeys(["engine", "wire"], 1),
    # leaves: errors, settings, where running gateways are
    **dict.fromkeys(["errors", "config", "faults", "_version", "running", "discovery"], 0),
}  # fmt: skip

#: Layers whose folders may import one another: the doors, the features (batch lines reach
#: remote models, usage installs the rate limiter) as long as no circle forms, and the
#: leaves.
SIDEWAYS_LAYERS = {7, 5, 0}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def folder_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[int, list[str]]]:
    """Each import statement's candidate module names, most specific first, relative imports
    resolved: ``from a import b`` is ``a.b`` if that is a module, else ``a``."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, [alias.name]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found += [(node.lineno, [f"{name}.{alias.name}", name]) for alias in node.names]
    return found


def modules() -> dict[str, Path]:
    return {
        module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "labextension" not in p.parts
    }


def resolve(candidates: list[str], known: dict[str, Path]) -> str | None:
    """The package module an import loads: the first candidate (or its longest prefix) that
    is one of ours; None for a third-party import."""
    for name in candidates:
        if name in known:
            return name
    target = candidates[-1]
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def module_edges() -> set[tuple[str, str]]:
    """(importer, imported) over the package's own modules."""
    known = modules()
    edges: set[tuple[str, str]] = set()
    for module, path in known.items():
        for _, candidates in imported_names(path.read_text(), module, path.name == "__init__.py"):
            target = resolve(candidates, known)
            if target and target != module:
                edges.add((module, target))
    return edges


def strongly_connected(nodes: set[str], edges: set[tuple[str, str]]) -> list[set[str]]:
    """Tarjan's components with more than one node (the import circles)."""
    graph: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return found


@dataclass
class Measure:
    module_arrows: set[tuple[str, str]]  # module -> module, across folders
    arrows: set[tuple[str, str]]  # folder -> folder
    circles: list[set[str]]  # folders in one import circle
    module_circles: list[set[str]]  # modules in a circle that spans folders
    upward: set[tuple[str, str]]  # module -> module into a higher layer (or a sideways one)

    def summary(self) -> str:
        return (
            f"cross-folder arrows: {len(self.arrows)} folder pairs"
            f" ({len(self.module_arrows)} module pairs); circles across folders:"
            f" {len(self.circles)} ({sum(map(len, self.module_circles))} modules);"
            f" upward arrows: {len(self.upward)}"
        )


def layer_of(folder: str) -> int:
    if folder not in LAYERS:
        raise KeyError(f"{folder!r} has no layer: add it to LAYERS in tests/import_graph.py")
    return LAYERS[folder]


def measure() -> Measure:
    edges = module_edges()
    across = {(a, b) for a, b in edges if folder_of(a) != folder_of(b)}
    arrows = {(folder_of(a), folder_of(b)) for a, b in across}
    folders = {folder_of(m) for m in modules()}
    module_circles = [
        c for c in strongly_connected(set(modules()), edges) if len({folder_of(m) for m in c}) > 1
    ]
    upward = {
        (a, b)
        for a, b in across
        if layer_of(folder_of(b)) > layer_of(folder_of(a))
        or (
            layer_of(folder_of(b)) == layer_of(folder_of(a))
            and layer_of(folder_of(a)) not in SIDEWAYS_LAYERS
        )
    }
    return Measure(across, arrows, strongly_connected(folders, arrows), module_circles, upward)


if __name__ == "__main__":
    m = measure()
    print(m.summary())
    for c in m.circles:
        print("circle:", sorted(c))
    for a, b in sorted(m.upward):
        print("upward:", a, "->", b)
