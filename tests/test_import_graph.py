"""The import graph of src/migrator (read with ``ast``): no upward arrow and no cycle.

Every import counts, deferred ones inside functions and ``TYPE_CHECKING`` ones too. A
"room" is the first name under ``migrator`` (``migrator.extract.site`` is in ``extract``);
rooms are ranked as the README's layout section draws them, and a room imports only
rooms of its rank or below. A new room must be given a rank here (and a line in the
README's graph).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# Rank of each room: stages above the rooms they use; the package root (whose lazy
# exports point at pipeline, load and extract) and __main__ sit on top.
RANKS = {
    **dict.fromkeys(
        ("models", "errors", "config", "urls", "version", "schema", "decode", "clean"), 0
    ),
    **dict.fromkeys(("inflate", "resolve", "log", "children", "traps", "demo", "netio"), 0),
    **dict.fromkeys(("worker_models", "crawl_db"), 0),
    **dict.fromkeys(("pace", "robots", "scope", "exchange"), 1),
    **dict.fromkeys(("fetch", "extract", "load", "store"), 2),
    **dict.fromkeys(
        ("discover", "remote_fetch", "sources", "learn", "parts", "datasette_metadata"), 3
    ),
    **dict.fromkeys(("workers", "page_load", "reextract", "run_start", "run_end"), 3),
    **dict.fromkeys(("crawl_fetch", "crawl_learning", "crawl_write", "crawl_seed"), 3),
    "run_report": 0,
    **dict.fromkeys(("pipeline", "crawl", "parse", "report", "export"), 4),
    "progress": 5,
    "cli": 6,
    "__main__": 7,
}
# Stages that are pure (STYLE.md: extract has no network, clock or database).
PURE = {
    "extract": {"fetch", "exchange", "pace", "robots", "inflate", "resolve", "load", "store"}
    | {"schema", "pipeline", "sources", "discover", "remote_fetch"}
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the migrator modules it imports (``from pkg import sub`` -> ``pkg.sub``)."""
    modules = {module_name(p): p for p in (SRC / "migrator").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.split(".")[0] == "migrator"}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] != "migrator":
                    continue
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.ImportFrom) and node.level:
                targets.add(f"relative import in {name}")
        graph[name] = targets - {name}
    return graph


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "migrator"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_import_graph_reads_the_source(graph):
    """The graph is read from the real tree (a wrong SRC would make every check vacuous)."""
    assert "migrator.fetch" in graph["migrator.pipeline"]
    assert "migrator.extract.site" in graph["migrator.learn"]


def test_import_graph_no_module_imports_the_package_root(graph):
    upward = sorted(m for m, targets in graph.items() if "migrator" in targets)
    assert upward == [], f"import from migrator.version (or the module itself): {upward}"


def test_import_graph_no_relative_imports(graph):
    relative = sorted(t for targets in graph.values() for t in targets if " " in t)
    assert relative == []


def test_import_graph_has_no_cycle(graph):
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_import_graph_find_cycle_finds_one():
    """The cycle check itself: a two-module loop and a self-contained chain."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_import_graph_every_room_ranked(graph):
    unranked = sorted({room(m) for m in graph} - {"migrator"} - set(RANKS))
    assert unranked == [], f"give these rooms a rank in RANKS (and the README graph): {unranked}"


def test_import_graph_no_upward_arrow(graph):
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if room(module) != "migrator"
        for target in targets
        if room(target) in RANKS
        and room(module) in RANKS
        and RANKS[room(target)] > RANKS[room(module)]
    )
    assert upward == []


def test_import_graph_pure_stages_stay_pure(graph):
    impure = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if room(target) in PURE.get(room(module), ())
    )
    assert impure == []
