"""The packages' dependencies go one way (pyproject's [tool.importlinter] contracts), and no package
imports another package's private names."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "interconnect", "roles", "apps", "channels", "sync", "web")


def test_imports_keep_the_layers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))  # this checkout's packages, not an installed copy
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out


def owner(module: str) -> str:
    """The feature a module belongs to: a top-level package, or one app under apps/."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "apps" and len(parts) > 1 else parts[0]


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            yield ".".join(p for p in relative.parts if p != "__init__"), path


def private_imports_of(module: str, source: str) -> Iterator[str]:
    """Each `from <another package> import _name` in one module's source."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
            continue
        if owner(node.module) == owner(module) or node.module.split(".")[0] not in PACKAGES:
            continue
        for alias in node.names:
            if alias.name.startswith("_"):
                yield f"{module} imports {node.module}.{alias.name}"


def test_no_package_imports_another_packages_private_names() -> None:
    found = [line for module, path in modules() for line in private_imports_of(module, path.read_text())]
    assert not found, "\n".join(found)


def test_the_private_name_check_sees_one() -> None:
    source = "from interconnect.imports.columns import _HEADER_ALIASES\nfrom apps.ordering.admin import _x\n"
    assert list(private_imports_of("apps.agent.pages", source)) == [
        "apps.agent.pages imports interconnect.imports.columns._HEADER_ALIASES",
        "apps.agent.pages imports apps.ordering.admin._x",
    ]
    assert not list(private_imports_of("interconnect.imports.reading", source.splitlines()[0]))
