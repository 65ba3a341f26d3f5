"""The layers import only downward: knowledge ← storage ← handlers ← bot (see README, Architecture).

Walks every module's AST (imports inside functions count too) so an upward import fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# layer → top-level packages it must never import
FORBIDDEN: dict[str, frozenset[str]] = {
    "knowledge": frozenset({"telegram", "sqlalchemy", "alembic", "storage", "handlers", "bot"}),
    "storage": frozenset({"telegram", "handlers", "bot"}),
    "handlers": frozenset({"bot"}),
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """(top-level package, line) of every import in a module (relative imports stay inside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def upward_imports(layer: str) -> list[str]:
    """``file:line imports package`` for each forbidden import in a layer."""
    problems = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        if "migrations" in path.parts:  # alembic scripts are storage's own tooling
            continue
        for package, line in sorted(imported_packages(path)):
            if package in FORBIDDEN[layer]:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {package}")
    return problems


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_upward(layer: str) -> None:
    assert upward_imports(layer) == []


def test_the_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from storage.models import Unit\n    import telegram.ext\n", encoding="utf-8")
    assert imported_packages(module) == {("storage", 2), ("telegram", 3)}
