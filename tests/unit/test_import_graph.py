"""The package's imports point one way: from HTTP to services to repositories to the
database, and no module (nor domain package) imports one that imports it back.

Read from the source with `ast`, so that an import inside a function counts as well."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "insightboards"

# Each module's layer, by the longest name prefix that matches it: a module may import
# modules of its own layer or of layers below it, never above.
LAYERS: dict[str, int] = {
    # HTTP and the command line
    "insightboards.api": 6,
    "insightboards.cli": 6,
    "insightboards.web": 6,
    "insightboards.__main__": 6,
    # Use cases spanning domains
    "insightboards.provisioning": 5,
    # Services: the use cases and their rules
    "insightboards.accounts.service": 4,
    "insightboards.audit.service": 4,
    "insightboards.dashboards.service": 4,
    "insightboards.dashboards.creating": 4,
    "insightboards.dashboards.checks": 4,
    "insightboards.dashboards.listing": 4,
    "insightboards.dashboards.served": 4,
    "insightboards.dashboards.history": 4,
    "insightboards.dashboards.trash": 4,
    "insightboards.feed.service": 4,
    "insightboards.feed.watcher": 4,
    # Repositories: all SQL that reads and writes the domain's tables
    "insightboards.accounts.repository": 3,
    "insightboards.audit.repository": 3,
    "insightboards.dashboards.repository": 3,
    "insightboards.dashboards.served_repository": 3,
    "insightboards.dashboards.list_repository": 3,
    "insightboards.dashboards.history_repository": 3,
    "insightboards.dashboards.trash_repository": 3,
    "insightboards.feed.repository": 3,
    # Domain shapes and rules, and the query language, which builds SQL but runs none
    "insightboards.access": 2,
    "insightboards.accounts.token_uses": 2,
    "insightboards.query": 2,
    "insightboards.dashboards.documents": 2,
    "insightboards.dashboards.merging": 2,
    "insightboards.dashboards.input_rows": 2,
    "insightboards.dashboards.records": 2,
    "insightboards.dashboards.schemas": 2,
    "insightboards.dashboards.responses": 2,
    "insightboards.dashboards.limits": 2,
    # The database: engines, transactions, the schema, statements run through the driver
    "insightboards.database": 1,
    "insightboards.tables": 1,
    "insightboards.prepared": 1,
    "insightboards.loop_reads": 1,
    "insightboards.group_commit": 1,
    "insightboards.sqlite_functions": 1,
    "insightboards.migrations": 1,
    # What every layer may use
    "insightboards.errors": 0,
    "insightboards.ids": 0,
    "insightboards.clock": 0,
    "insightboards.config": 0,
}
PACKAGES_ONLY = {
    "insightboards",
    "insightboards.accounts",
    "insightboards.audit",
    "insightboards.dashboards",
    "insightboards.feed",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `path` imports (a name imported from a package counts
    as its module when it is one)."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                imported.add(name if name in modules else node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return {name for name in imported if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def layer_of(module: str) -> int | None:
    matches = [prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")]
    return LAYERS[max(matches, key=len)] if matches else None


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as the list of its nodes, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_graph_is_read_from_the_source() -> None:
    graph = _graph()
    assert len(graph) > 40
    assert "insightboards.dashboards.repository" in graph["insightboards.dashboards.service"]
    assert "insightboards.tables" in graph["insightboards.database"]


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in _graph() if m not in PACKAGES_ONLY and layer_of(m) is None]
    assert unplaced == [], "add these modules to LAYERS"


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{source} (layer {layer_of(source)}) imports {target} (layer {layer_of(target)})"
        for source, targets in _graph().items()
        if source not in PACKAGES_ONLY
        for target in targets
        if target not in PACKAGES_ONLY and (layer_of(target) or 0) > (layer_of(source) or 0)
    ]
    assert upward == []


def test_no_module_imports_itself_back() -> None:
    assert cycle_in(_graph()) is None


def test_no_two_parts_of_the_package_depend_on_each_other() -> None:
    """Between the package's parts (accounts, dashboards, query, api, and each top-level
    module), dependencies form no cycle either: accounts know nothing of dashboards."""

    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    parts: dict[str, set[str]] = {}
    for source, targets in _graph().items():
        parts.setdefault(part(source), set()).update(
            part(target) for target in targets if part(target) != part(source)
        )
    assert cycle_in(parts) is None


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"b2"}, "b2": {"b"}}, ["b", "b2", "b"]),
    ],
)
def test_cycle_in(graph: dict[str, set[str]], expected: list[str] | None) -> None:
    assert cycle_in(graph) == expected


def test_layer_of_takes_the_longest_prefix() -> None:
    assert layer_of("insightboards.dashboards.service") == 4
    assert layer_of("insightboards.query.filter") == 2
    assert layer_of("insightboards.api.fast_paths") == 6
    assert layer_of("insightboards.databases") is None
