"""The layers of docs/architecture.md hold: imports only go down, and each concern has one home.

The import graph is read from the source (TYPE_CHECKING imports included, since a type is a
dependency too) and checked for cycles, depth, and the rules the layers state.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tap_gong_calls"
MAX_FLOORS = 9
MAX_LINES = 310  # "no module over ~300 lines"
# Where the daily request budget's own machinery may be named (the error it raises is an
# error like the others, gong/errors.py, handled where a stream stops).
BUDGET_NAMES = ("RequestBudget", "read_usage", "gong.budget")
MAX_BUDGET_MODULES = 5


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


@cache
def imports() -> dict[str, set[str]]:
    """Each module of the package -> the modules of the package it imports."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            found.update(t for t in targets if t in known and t != name)
        graph[name] = found - {"tap_gong_calls", "tap_gong_calls.gong", "tap_gong_calls.extract"}
    return graph


def floors() -> dict[str, int]:
    """Each module's floor: 0 for a module importing none of the package, else one above the
    highest it imports. Raises on a cycle."""
    graph = imports()
    floor: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name in floor:
            return floor[name]
        if name in visiting:
            raise AssertionError(f"import cycle: {' -> '.join((*path, name))}")
        visiting.add(name)
        below = [visit(dep, (*path, name)) for dep in graph[name]]
        visiting.discard(name)
        floor[name] = 1 + max(below) if below else 0
        return floor[name]

    for name in graph:
        visit(name, ())
    return floor


def test_the_imports_have_no_cycle_and_few_floors() -> None:
    # __main__ is the `python -m` entry point, as the console script is: no layer of its own.
    found = {k: v for k, v in floors().items() if k != "tap_gong_calls.__main__"}
    assert max(found.values()) + 1 <= MAX_FLOORS, sorted(found.items(), key=lambda i: i[1])


def test_the_gong_layer_imports_nothing_above_it() -> None:
    above = (
        "tap_gong_calls.extract",
        "tap_gong_calls.streams",
        "tap_gong_calls.tap",
        "tap_gong_calls.sdk_overrides",
    )
    offenders = {
        name: sorted(dep for dep in deps if dep.startswith(above))
        for name, deps in imports().items()
        if name.startswith("tap_gong_calls.gong")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_extraction_knows_no_stream_and_no_tap() -> None:
    above = ("tap_gong_calls.streams", "tap_gong_calls.tap", "tap_gong_calls.sdk_overrides")
    for name, path in modules().items():
        if not name.startswith("tap_gong_calls.extract"):
            continue
        assert not [d for d in imports()[name] if d.startswith(above)], name
        text = path.read_text(encoding="utf-8")
        assert "from singer_sdk import" not in text, f"{name} imports singer-sdk's Stream/Tap"


def test_the_daily_budget_is_named_in_few_modules() -> None:
    naming = sorted(
        name
        for name, path in modules().items()
        if any(word in path.read_text(encoding="utf-8") for word in BUDGET_NAMES)
    )
    assert len(naming) <= MAX_BUDGET_MODULES, naming


def test_no_module_is_long() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def assigned_attributes(function: ast.AST) -> list[tuple[int, str, str]]:
    """(line, name, attribute) of each ``name.attribute = …`` in ``function``."""
    found = []
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for leaf in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(leaf, ast.Attribute) and isinstance(leaf.value, ast.Name):
                    found.append((leaf.lineno, leaf.value.id, leaf.attr))
    return found


def test_no_module_assigns_attributes_of_another_modules_objects() -> None:
    """``x.attr = …`` only on ``self``, or on an object the same function just made."""
    offenders = []
    for name, path in modules().items():
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            made = {
                target.id
                for node in ast.walk(function)
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
            offenders += [
                f"{name}:{line} {owner}.{attribute}"
                for line, owner, attribute in assigned_attributes(function)
                if owner not in ("self", "cls") and owner not in made
            ]
    assert offenders == []
