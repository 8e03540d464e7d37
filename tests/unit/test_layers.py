"""The layer rules of ARCHITECTURE.md §2, checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "carehub"
CORE = {"model", "errors", "settings"}
DOMAIN = {"acquire", "standardise", "quality", "metrics", "analytics", "collaboration"}
# package -> the carehub packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "cli": {"platform", "errors", "settings", "synth", "model"},
    "web": {"platform", "errors", "settings"},
    "platform": DOMAIN | {"governance", "store"} | CORE,
    **{name: {"governance", "store"} | CORE for name in DOMAIN},
    "governance": {"store"} | CORE,
    "store": CORE,
    "model": {"errors"},
    "errors": set(),
    "settings": set(),
    "synth": CORE,
}
ALLOWED["analytics"] |= {"metrics"}
# third-party packages that only some layers may use
RESTRICTED = {
    "duckdb": {"store"},
    "fastapi": {"web"},
    "starlette": {"web"},
    "typer": {"cli"},
    "alembic": {"store"},
}


def _package(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[0] if parts else "__init__"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_follow_the_layers(path: Path) -> None:
    package = _package(path)
    if package in ("__init__", "__main__"):
        return
    problems = []
    for name in _imports(path):
        top, _, rest = name.partition(".")
        if top == "carehub" and rest:
            target = rest.split(".")[0]
            if target != package and target not in ALLOWED[package]:
                problems.append(f"{package} imports carehub.{target}")
        elif top in RESTRICTED and package not in RESTRICTED[top]:
            problems.append(f"{package} imports {top}")
    assert not problems, f"{path.relative_to(SRC)}: " + "; ".join(problems)


def test_every_package_has_a_layer() -> None:
    packages = {_package(p) for p in SRC.rglob("*.py")} - {"__init__", "__main__"}
    assert packages <= set(ALLOWED), packages - set(ALLOWED)


def test_production_code_never_imports_synth() -> None:
    users = {
        _package(p)
        for p in SRC.rglob("*.py")
        if any(n.startswith("carehub.synth") for n in _imports(p))
    }
    assert users <= {"synth", "cli"}
