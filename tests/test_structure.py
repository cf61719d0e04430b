"""How mockhog's modules hang together: no import cycles at module level, and resources read the
world's profile from the backend they serve (never the profile file)."""

from __future__ import annotations

import ast
from pathlib import Path

from mockhog import DEFAULT_API_KEY, Backend, create_app

PACKAGE = Path(__file__).resolve().parents[1] / "mockhog"


def _imports() -> dict[str, set[str]]:
    """Each module's module-level imports of other mockhog modules (imports inside functions and
    under ``if TYPE_CHECKING:`` run later, or never, and cannot close a cycle at import time)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()

        def visit(body: list[ast.stmt], package: str = package, found: set[str] = found) -> None:
            for node in body:
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    continue
                if isinstance(node, ast.If | ast.Try):
                    visit(node.body)
                    visit(node.orelse)
                    for handler in getattr(node, "handlers", []):
                        visit(handler.body)
                elif isinstance(node, ast.ImportFrom):
                    base = (
                        package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                    )
                    target = ".".join([*base, node.module] if node.module else base)
                    for alias in node.names:
                        found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)

        visit(ast.parse(path.read_text(encoding="utf-8")).body)
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules in order), or None."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def walk(name: str) -> list[str] | None:
        state[name] = 1
        trail.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return [*trail[trail.index(target) :], target]
            if target not in state and (found := walk(target)):
                return found
        state[name] = 2
        trail.pop()
        return None

    for name in sorted(graph):
        if name not in state and (found := walk(name)):
            return found
    return None


def test_no_module_imports_itself_back():
    graph = _imports()
    assert {"mockhog.backend", "mockhog.seed", "mockhog.lifecycle", "mockhog.resources.base"} <= set(graph)
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_resources_read_the_backends_profile():
    profile_types = [
        {"index": 0, "name": "organization", "count": 2},
        {"index": 3, "name": "team", "count": 2},
    ]
    backend = Backend(seed=0, profile={"groups": {"types": profile_types}})
    client = create_app(backend=backend).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {DEFAULT_API_KEY}"
    made = client.post("/api/projects/1/groups/", json={"group_type_index": 3, "group_key": "core"})
    assert made.status_code == 201, made.get_json()
    refused = client.post("/api/projects/1/groups/", json={"group_type_index": 1, "group_key": "x"})
    assert refused.status_code == 404  # index 1 is no group type of this world
