"""The architecture of docs/architecture.md, enforced: the import contracts (import-linter,
configured in pyproject.toml), no reach into another package's private names, and the
shells started from two places only."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest
from conftest import ROOT
from importlinter.cli import lint_imports

SOURCES = sorted(
    p
    for folder in ("kohorte", "dashboard", "flows")
    for p in (ROOT / folder).rglob("*.py")
    if ".venv" not in p.parts
)
STARTERS = {"kohorte/cli.py", "kohorte/ops/service.py"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """The package that owns a module: ``kohorte.<sub>`` for the core's sub-packages,
    ``kohorte`` for its top-level modules, the shell's name for the shells."""
    parts = module.split(".")
    if parts[0] != "kohorte":
        return parts[0]
    if len(parts) >= 2 and (ROOT / "kohorte" / parts[1]).is_dir():
        return ".".join(parts[:2])
    return "kohorte"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _reaches(path: Path) -> list[str]:
    """Where a module uses a private name of a module in another package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _package(_module(path))
    found, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                modules[alias.asname or alias.name] = target
                if _private(alias.name) and _package(node.module) != here:
                    found.append(f"{path.name}:{node.lineno} imports {target}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
        ):
            target = modules[node.value.id]
            if target.split(".")[0] in ("kohorte", "dashboard", "flows") and (
                _package(target) != here
            ):
                found.append(f"{path.name}:{node.lineno} uses {target}.{node.attr}")
    return found


def test_the_import_contracts_hold():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.chdir(ROOT):
        code = lint_imports()
    assert code == 0, out.getvalue()


def test_the_layers_contract_names_every_package_of_the_core():
    """A new sub-package must take its place in the layers, or it would be unchecked."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    layers = text.split('type = "layers"')[1].split("]")[0]
    named = set(re.findall(r"kohorte\.(\w+)", layers))
    packages = {p.name for p in (ROOT / "kohorte").iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "kohorte").glob("*.py") if p.stem != "__init__"}
    assert packages | modules == named


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_reaches_another_packages_private_names(path):
    assert _reaches(path) == []


def test_the_private_name_check_would_catch_a_reach(tmp_path, monkeypatch):
    folder = tmp_path / "kohorte" / "read"
    folder.mkdir(parents=True)
    (tmp_path / "kohorte" / "build").mkdir()
    probe = folder / "probe.py"
    probe.write_text(
        "from kohorte.build import warehouse\n"
        "from kohorte.build.warehouse import _load_raw\n"
        "from kohorte.read.queries import _query_files\n"
        "warehouse._prune(1, 2)\n",
        encoding="utf-8",
    )
    monkeypatch.setattr("test_architecture.ROOT", tmp_path)
    assert _reaches(probe) == [
        "probe.py:2 imports kohorte.build.warehouse._load_raw",
        "probe.py:4 uses kohorte.build.warehouse._prune",
    ]


SHELL_NAME = re.compile(r"\b(flows|dashboard)[./]\w")


def _shell_mentions(path: Path) -> list[str]:
    """Strings (not docstrings) that name a shell's module or file, and lookups of one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            if SHELL_NAME.search(node.value) or node.value in ("flows", "dashboard"):
                found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "flows",
            "dashboard",
        ):
            found.append(f"{path.name}:{node.lineno}: from {node.module}")
    return found


def test_only_the_cli_and_the_service_start_a_shell():
    core = [p for p in SOURCES if p.relative_to(ROOT).parts[0] == "kohorte"]
    starters = {str(p.relative_to(ROOT)): _shell_mentions(p) for p in core}
    assert all(starters[name] for name in STARTERS), starters  # the check sees them
    others = {name: found for name, found in starters.items() if found and name not in STARTERS}
    assert others == {}
