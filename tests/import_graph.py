"""The import graph of a package read from its source with :mod:`ast` (nothing is imported), and its cycles.

Every ``import``/``from`` statement counts, also one inside a function: an import deferred to call time
still ties the two modules together (docs/DESIGN.md, "Layers"). An edge goes to the deepest module of the
package that the statement names (``from .data import photos`` -> ``pkg.data.photos``; ``from .data import
Item`` -> ``pkg.data``); imports of other packages are left out, and so are the implicit imports of a
module's parent packages (every module would otherwise sit in a cycle with the ``__init__`` that imports it).

Run as a script to list the cycles of ``workbench``: ``python tests/import_graph.py``.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path


def modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``) for every ``.py`` file under the package
    folder ``root`` (whose name is the package's)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _deepest(name: str, known) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: str | Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, for the package folder ``root``."""
    known = modules(Path(root))
    graph: dict[str, set[str]] = {}
    for name, (path, package) in known.items():
        here = name.split(".") if package else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(_deepest(alias.name, known) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[:len(here) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets.update(_deepest(f"{source}.{alias.name}", known) for alias in node.names)
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: each strongly connected component of more than one module, sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(graph: dict[str, set[str]], cycle: list[str]) -> str:
    """One line per module of ``cycle``: the modules of the cycle it imports."""
    members = set(cycle)
    return "\n".join(f"  {m} -> {', '.join(sorted(graph[m] & members))}" for m in cycle)


if __name__ == "__main__":
    package = Path(__file__).resolve().parents[1] / "workbench"
    graph = import_graph(package)
    found = cycles(graph)
    for cycle in found:
        print(describe(graph, cycle))
    print(f"{len(graph)} modules, {len(found)} import cycle(s)")
    sys.exit(1 if found else 0)
