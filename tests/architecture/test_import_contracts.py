"""The layout rules of docs/architecture.md, checked on the source (AST, no import executed):

- a service's ``domain`` imports neither its ``db``, ``api``, ``application`` nor ``clients``, nor an HTTP or SQL
  library — transitively, through any first-party module it imports (so a kit module that pulls FastAPI in is
  off limits too; the pure ones are ``metas_kit.grants``, ``numbers``, ``bounds``, ``timestamps``);
- a service's ``api`` never imports SQLAlchemy or the service's ``db`` package, and makes no ``session.`` call:
  routers hand the session to one application function;
- services (and the gateway and console) never import each other;
- the kit, the clients and the rules import no service (the rules nothing first-party but themselves).

Imports under ``if TYPE_CHECKING:`` are not counted: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = [
    ROOT / "libs" / "kit" / "src",
    ROOT / "libs" / "clients" / "src",
    ROOT / "libs" / "rules" / "src",
    ROOT / "libs" / "dev" / "src",
    *sorted((ROOT / "services").glob("*/src")),
    ROOT / "gateway" / "src",
    ROOT / "console" / "src",
]
APPS = (*sorted(p.parent.name for p in (ROOT / "services").glob("*/src")), "gateway", "console")
SERVICES = tuple(sorted(p.parent.name for p in (ROOT / "services").glob("*/src")))
HTTP_AND_SQL = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "httpx",
    "aiohttp",
    "httptools",
    "aiosqlite",
    "asyncpg",
    "alembic",
    "uvicorn",
)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@cache
def modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for root in SOURCE_ROOTS:
        if not root.is_dir():
            continue
        for path in root.rglob("*.py"):
            if "migrations" in path.relative_to(root).parts:
                continue  # Alembic scripts run by Alembic, not imported by the app
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_runtime(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child):
            yield from (n for n in child.orelse for n in [n, *_walk_runtime(n)])
            continue
        yield child
        yield from _walk_runtime(child)


@cache
def imports_of(name: str) -> frozenset[str]:
    """Modules ``name`` imports at run time (absolute names; ``from a import b`` counts ``a`` and ``a.b``)."""
    module = modules()[name]
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    package = name if module.is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return frozenset(out)


def _first_party(name: str) -> str | None:
    """The first-party module ``name`` denotes (or its nearest first-party parent), else None."""
    mods = modules()
    while name:
        if name in mods:
            return name
        name = name.rpartition(".")[0]
    return None


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@cache
def closure(name: str) -> frozenset[str]:
    """Everything importing ``name`` runs: first-party modules (with their parent packages) and the top-level
    names of third-party ones."""
    seen: set[str] = set()
    external: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for imported in imports_of(current):
            target = _first_party(imported)
            if target is None:
                external.add(imported.split(".")[0])
                continue
            stack.extend(p for p in _with_parents(target) if p in modules() and p not in seen)
    return frozenset(seen | external)


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations() -> Iterator[tuple[str, str]]:
    mods = modules()
    for name in sorted(mods):
        top = name.split(".")[0]
        parts = name.split(".")
        # domain: pure, transitively
        if top in SERVICES and len(parts) > 1 and parts[1] == "domain":
            for reached in sorted(closure(name)):
                banned = [f"{top}.{layer}" for layer in ("db", "api", "application", "clients")]
                if any(_in(reached, b) for b in banned) or reached in HTTP_AND_SQL:
                    yield name, f"domain reaches {reached}"
        # api: no SQLAlchemy, no ORM package, no session calls
        if top in SERVICES and len(parts) > 1 and parts[1] == "api":
            for imported in sorted({_first_party(i) or i.split(".")[0] for i in imports_of(name)}):
                if imported == "sqlalchemy" or _in(imported, f"{top}.db"):
                    yield name, f"api imports {imported}"
            tree = ast.parse(mods[name].path.read_text(encoding="utf-8"))
            calls = sorted(
                {
                    node.attr
                    for node in ast.walk(tree)
                    if isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "session"
                }
            )
            if calls:
                yield name, f"api calls session.{'/'.join(calls)}"
        # no app imports another app; the libraries import no app
        for imported in sorted({i.split(".")[0] for i in imports_of(name)}):
            if imported in APPS and imported != top:
                yield name, f"imports the {imported} app"
        if top == "metas_rules":
            for imported in sorted(imports_of(name)):
                target = _first_party(imported)
                if target is not None and not _in(target, "metas_rules"):
                    yield name, f"rules import {target}"


def test_the_source_tree_is_found() -> None:
    mods = modules()
    # guard against a silent pass: the rules below saw the real tree
    assert {"metas_kit.auth", "planning.domain.document", "execution.api", "metas_clients.planning"} <= set(mods)
    assert "fastapi" in closure("metas_kit.auth")
    assert "fastapi" not in closure("metas_kit.grants")


def test_layout_rules_hold() -> None:
    found = sorted(set(_violations()))
    assert not found, "\n".join(f"{m}: {why}" for m, why in found)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("from sqlalchemy import select\n", "api imports sqlalchemy"),
        ("async def f(session):\n    await session.execute(1)\n", "api calls session.execute"),
        ("from budget.db import models\n", "api imports budget.db"),
    ],
)
def test_the_api_rule_catches_what_it_should(tmp_path: Path, source: str, reason: str) -> None:
    # The checker itself, on a throwaway module placed in a copy of the rules' view.
    path = tmp_path / "probe.py"
    path.write_text(source)
    mods = modules()
    probe = Module("budget.api.probe", path, is_package=False)
    mods[probe.name] = probe
    imports_of.cache_clear()
    try:
        assert any(m == probe.name and why.startswith(reason) for m, why in _violations())
    finally:
        del mods[probe.name]
        imports_of.cache_clear()
