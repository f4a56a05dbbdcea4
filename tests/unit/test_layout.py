"""The package's shape stays true: imports point one way (verbs -> domain -> base), no cycles.

Read from the source with ast, so imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lifecycle

PACKAGE = Path(lifecycle.__file__).parent
TOP_LEVEL = {"__init__", "__main__", "cli", "settings", "errors"}
BASE = {"lifecycle", "lifecycle.settings", "lifecycle.errors"}
VERB_LAYER = ("lifecycle.cli", "lifecycle.__main__", "lifecycle.commands")
# verbs parse flags, call the domain and print: the registry and HTTP are the domain's business
FORBIDDEN_IN_VERBS = ("mlflow", "urllib", "requests", "httpx", "http.client")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str) -> set[str]:
    """Every module ``name`` imports, resolved to the modules of this package or a library root."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


def layer(name: str) -> int:
    if name.startswith(VERB_LAYER):
        return 2
    return 0 if name in BASE else 1


def subpackage(name: str) -> str:
    return name.split(".")[1] if name.count(".") else ""


def test_only_the_entry_point_settings_and_errors_sit_at_the_top():
    loose = {p.stem for p in PACKAGE.glob("*.py")} - TOP_LEVEL
    assert not loose, f"move these into a subpackage by concern: {sorted(loose)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_from_verbs_to_domain_to_base(name):
    inward = [
        other
        for other in imported(name)
        if other in MODULES and other != name and layer(other) > layer(name)
    ]
    assert not inward, f"{name} (layer {layer(name)}) imports {inward} from a layer above it"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("lifecycle.commands")))
def test_verbs_make_no_registry_or_http_calls_of_their_own(name):
    direct = sorted(
        m
        for m in imported(name)
        if m.split(".")[0] in {f.split(".")[0] for f in FORBIDDEN_IN_VERBS}
    )
    direct = [m for m in direct if m.startswith(FORBIDDEN_IN_VERBS)]
    assert not direct, f"{name} imports {direct}: move the call into the domain"


def test_no_module_cycles():
    graph = {n: {m for m in imported(n) if m in MODULES and m != n} for n in MODULES}
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_cycles_between_subpackages():
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        if layer(name) != 1:
            continue
        targets = {subpackage(m) for m in imported(name) if m in MODULES and layer(m) == 1}
        graph.setdefault(subpackage(name), set()).update(targets - {subpackage(name)})
    cycles = _cycles(graph)
    assert not cycles, "subpackages that import each other: " + "; ".join(
        " -> ".join(c) for c in cycles
    )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_sees_a_cycle_and_an_inward_import():
    """The rules above can fail: a made-up graph with a cycle is caught."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert (
        layer("lifecycle.commands.train")
        > layer("lifecycle.training.fit")
        > layer("lifecycle.settings")
    )
