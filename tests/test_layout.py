"""The package's layout: modules short enough to read at once, and imports that never go round
in a circle (each module can be read knowing only those it imports)."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "pix2pix"
MODULES = sorted(PACKAGE.glob("*.py"))
MAX_LINES = 300


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_every_module_is_short(path):
    lines = len(path.read_text().splitlines())
    assert lines < MAX_LINES, f"{path.name} has {lines} lines; split it by who reads it"


def imported_modules(path, modules):
    """The pix2pix modules that `path` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # the module is named by `from pix2pix.data import ...` or `from pix2pix import data`
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name.split(".")[1] for name in names
                     if name.startswith("pix2pix.") and name.split(".")[1] in modules)
    return found


def find_cycle(graph):
    """One cycle of the graph as a list of nodes, first one repeated at the end; None if none."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for other in sorted(graph[node]):
            if cycle := visit(other):
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if cycle := visit(node):
            return cycle
    return None


def test_the_imports_have_no_cycle():
    modules = {path.stem for path in MODULES}
    graph = {path.stem: imported_modules(path, modules) - {path.stem} for path in MODULES}
    assert graph["cli"] >= {"errors"}  # the graph is really built
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(f"pix2pix.{name}" for name in cycle)


def test_a_cycle_is_named():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
