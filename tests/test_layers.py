"""The rooms of widget_server/ import only downward, and all SQL lives in db/queries/."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "widget_server"
# What each room may import from the package (besides itself), and which outside libraries
# it must never touch.
ALLOWED = {
    "domain": ({"domain"}, {"aiohttp", "asyncpg", "marshmallow"}),
    "schemas": ({"domain", "schemas"}, {"aiohttp", "asyncpg"}),
    "db": ({"domain", "db", "paths"}, {"aiohttp", "marshmallow"}),
    "services": ({"domain", "schemas", "db", "services"}, {"aiohttp"}),
    "runtime": ({"domain", "schemas", "db", "services", "runtime"}, {"aiohttp"}),
    "jobs": ({"domain", "schemas", "db", "services", "runtime", "jobs", "settings"}, {"aiohttp"}),
}
SQL = re.compile(
    r"^\s*(SELECT\b.*\bFROM|SELECT \d|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX)"
    r"|ALTER TABLE|DROP (TABLE|INDEX)|TRUNCATE|LOCK TABLE)\b",
    re.S,
)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).parts[0].removesuffix(".py"), path


def imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, names) of every import in the file, including those inside functions."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names]


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_each_room_imports_only_downward(room: str) -> None:
    allowed, banned = ALLOWED[room]
    wrong = []
    for top, path in modules():
        if top != room:
            continue
        for module, _ in imports(path):
            head, _, rest = module.partition(".")
            if head == "widget_server":
                inner = rest.split(".")[0]
                if inner and inner not in allowed:
                    wrong.append(f"{path.relative_to(PACKAGE)}: {module}")
            elif head in banned:
                wrong.append(f"{path.relative_to(PACKAGE)}: {module}")
    assert not wrong, wrong


def test_entry_points_call_services_not_queries() -> None:
    """web/ and cli/ may name a query module's types (a filter, a keyset), never call it."""
    wrong = []
    for top, path in modules():
        if top not in ("web", "cli", "app"):
            continue
        for module, names in imports(path):
            if module == "widget_server.db.queries" or (
                module.startswith("widget_server.db.queries.")
                and not all(name[0].isupper() for name in names)
            ):
                wrong.append(f"{path.relative_to(PACKAGE)}: {module} {names}")
    assert not wrong, wrong


def test_no_sql_outside_the_queries_package() -> None:
    found = []
    for _, path in modules():
        if "queries" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL.match(node.value)
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not found, found


def test_the_checks_see_what_they_look_for() -> None:
    """The walkers find a known import and a known SQL string, so an empty result means something."""
    queries = PACKAGE / "db" / "queries" / "sites.py"
    assert any(m == "widget_server.db.queries.keyset" for m, _ in imports(queries))
    strings = [
        n.value
        for n in ast.walk(ast.parse(queries.read_text()))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    assert any(SQL.match(s) for s in strings)
