"""The layers depend one way: resolvers -> services -> models (ARCHITECTURE.md, "Data flows
one way"). Every module of app, models and resolvers is imported, and the imports written in
its source (top level, inside functions and under TYPE_CHECKING alike) are checked.

Rules, and the exceptions to them with their reasons:
- app.services never imports resolvers: services return rows and raise UserErrors, the API
  layer maps them.
- models import neither app nor resolvers: a model knows only SQLAlchemy and other models
  (models.base); nothing in app is needed to describe a table.
- resolvers import nothing from sqlalchemy, not even for annotations: a resolver never holds
  a session or builds a statement (services hand over statements inside
  `pagination.KeysetQuery`), so it has no use for the types either.
- resolvers reach the session and its lock only through resolvers.base (`run_mutation`,
  `run_query`); no other resolver module names `.session` or `.db_lock`.
- app core never imports resolvers; the exception is app.schema, which builds the one
  strawberry.Schema from resolvers/<domain>. Everything else that needs the schema (app.main
  for the view, app.cli for `export-schema`) gets it from app.schema.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "models", "resolvers")
# Modules of app core allowed to import resolvers, with the reason.
SCHEMA_BUILDERS = {"app.schema": "builds the strawberry.Schema from resolvers/<domain>"}
# The one resolver module that holds the session and the per-request lock.
SESSION_OWNERS = {"resolvers.base": "run_mutation and run_query"}
SESSION_ATTRIBUTES = frozenset({"session", "db_lock"})


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@dataclass(frozen=True)
class Import:
    module: str  # the absolute name of what is imported
    line: int


def _modules() -> list[Module]:
    found = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        found.append(Module(package, Path(root.__file__ or ""), True))
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            module = importlib.import_module(info.name)
            found.append(Module(info.name, Path(module.__file__ or ""), info.ispkg))
    return found


MODULES = _modules()


def imports_of(source: str, *, module: str, is_package: bool) -> list[Import]:
    """Every import in `source`, wherever it is written, as absolute module names.

    `from a.b import c` counts as importing both `a.b` and `a.b.c` (c may be a module).
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append(Import(target, node.lineno))
            found += [Import(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _at(module: Module, line: int) -> str:
    return f"{module.path.relative_to(ROOT)}:{line}"


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations(modules: list[Module], forbidden: tuple[str, ...], why: str) -> list[str]:
    problems = []
    for module in modules:
        source = module.path.read_text()
        seen = set()
        for item in imports_of(source, module=module.name, is_package=module.is_package):
            target = next((f for f in forbidden if _within(item.module, f)), None)
            if target is not None and (item.line, target) not in seen:
                seen.add((item.line, target))
                problems.append(
                    f"{module.name} imports {item.module} ({_at(module, item.line)}): {why}"
                )
    return problems


def _in(*packages: str, but: tuple[str, ...] = ()) -> list[Module]:
    return [
        module
        for module in MODULES
        if any(_within(module.name, p) for p in packages)
        and not any(_within(module.name, b) for b in but)
    ]


def test_every_module_of_the_three_packages_is_checked():
    names = {module.name for module in MODULES}

    assert {"app.schema", "app.services.pagination", "models.base", "resolvers.base"} <= names
    assert {"app.services.catalog.products", "resolvers.catalog.queries"} <= names


def test_services_never_import_resolvers():
    problems = _violations(
        _in("app.services"), ("resolvers",), "services never import the GraphQL layer"
    )

    assert problems == [], "\n".join(problems)


def test_models_import_neither_app_nor_resolvers():
    problems = _violations(
        _in("models"), ("app", "resolvers"), "models depend on SQLAlchemy and other models only"
    )

    assert problems == [], "\n".join(problems)


def test_resolvers_import_nothing_from_sqlalchemy():
    problems = _violations(
        _in("resolvers"),
        ("sqlalchemy",),
        "resolvers build no SQL; a service hands over statements or rows",
    )

    assert problems == [], "\n".join(problems)


def test_app_core_imports_resolvers_only_to_build_the_schema():
    core = [
        module
        for module in _in("app", but=("app.services",))  # services: their own rule above
        if module.name not in SCHEMA_BUILDERS
    ]

    problems = _violations(
        core, ("resolvers",), "app core never imports resolvers (only app.schema does)"
    )

    assert problems == [], "\n".join(problems)


def test_only_resolvers_base_touches_the_session_or_its_lock():
    problems = []
    for module in _in("resolvers"):
        if module.name in SESSION_OWNERS:
            continue
        for node in ast.walk(ast.parse(module.path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in SESSION_ATTRIBUTES:
                problems.append(
                    f"{module.name} uses .{node.attr} ({_at(module, node.lineno)}): "
                    "call services through run_query / run_mutation"
                )

    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "module", "is_package", "expected"),
    [
        ("import sqlalchemy.orm", "resolvers.x", False, {"sqlalchemy.orm"}),
        (
            "from resolvers.base import Info",
            "app.x",
            False,
            {"resolvers.base", "resolvers.base.Info"},
        ),
        (
            "def f():\n    from resolvers import base",
            "app.y",
            False,
            {"resolvers", "resolvers.base"},
        ),
        (
            "if TYPE_CHECKING:\n    from sqlalchemy import Select",
            "resolvers.z",
            False,
            {"sqlalchemy", "sqlalchemy.Select"},
        ),
        (
            "from ..base import Info",
            "resolvers.catalog.types",
            False,
            {"resolvers.base", "resolvers.base.Info"},
        ),
        (
            "from . import types",
            "resolvers.catalog",
            True,
            {"resolvers.catalog", "resolvers.catalog.types"},
        ),
    ],
)
def test_imports_are_found_wherever_they_are_written(source, module, is_package, expected):
    found = {item.module for item in imports_of(source, module=module, is_package=is_package)}

    assert found == expected
