"""The package's import graph has no cycle (issue 37), and the checker finds a cycle where there is one."""
from __future__ import annotations

from pathlib import Path

from import_graph import cycles, describe, import_graph

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_checker_finds_a_cycle_closed_by_a_deferred_import(tmp_path):
    package = write_package(tmp_path, {
        "pkg/__init__.py": "from . import a\n",
        "pkg/a.py": "from .sub.b import helper\nimport numpy\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": "def helper():\n    from .. import a\n    return a\n",
        "pkg/c.py": "import pkg.a\nfrom pkg.sub import b\n",
    })
    graph = import_graph(package)
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.sub.b"}, "pkg.sub": set(), "pkg.sub.b": {"pkg.a"},
                     "pkg.c": {"pkg.a", "pkg.sub.b"}}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]
    assert describe(graph, ["pkg.a", "pkg.sub.b"]) == "  pkg.a -> pkg.sub.b\n  pkg.sub.b -> pkg.a"


def test_checker_finds_a_longer_cycle_and_none_in_a_chain(tmp_path):
    ring = import_graph(write_package(tmp_path / "ring", {
        "pkg/__init__.py": "", "pkg/x.py": "from .y import f\n", "pkg/y.py": "from . import z\n",
        "pkg/z.py": "from .x import g\n"}))
    assert cycles(ring) == [["pkg.x", "pkg.y", "pkg.z"]]
    chain = import_graph(write_package(tmp_path / "chain", {
        "pkg/__init__.py": "from .x import f\n", "pkg/x.py": "from .y import f\n", "pkg/y.py": "import os\n"}))
    assert cycles(chain) == []


def test_workbench_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 50 and "workbench.data.boxes" in graph
    found = cycles(graph)
    assert found == [], "import cycles:\n" + "\n".join(describe(graph, c) for c in found)
