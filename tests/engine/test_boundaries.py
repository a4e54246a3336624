"""The engine's architecture, enforced by parsing its code: commands are the CLI's alone, and no
function of the shipped code runs over 80 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "engine"
COMMANDS = "engine.commands"


def _package(path: Path) -> list[str]:
    """The package a module file's relative imports start from, as name parts."""
    return list(path.relative_to(ENGINE.parent).parent.parts)


def _names_commands(source: str, package: list[str]) -> bool:
    """Whether the code imports a command module, or spells one's name for importlib."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.update({module, *(f"{module}.{alias.name}" for alias in node.names)})
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return any(name == COMMANDS or name.startswith(COMMANDS + ".") for name in names)


def test_only_the_cli_reaches_the_commands() -> None:
    # A command is argv glue: the server, the measurements and the library call what the
    # commands call (engine.training, engine.measure), never a command.
    importers = {
        str(path.relative_to(ENGINE.parent))
        for path in ENGINE.rglob("*.py")
        if path.parent.name != "commands"
        and _names_commands(path.read_text(encoding="utf-8"), _package(path))
    }
    assert importers == {"engine/cli.py"}


@pytest.mark.parametrize(
    "line",
    [
        "from engine.commands.train import run",
        "import engine.commands.train",
        "from engine import commands",
        "from ..commands import train",
        "importlib.import_module('engine.commands.train')",
    ],
)
def test_the_check_sees_every_way_of_naming_a_command(line: str) -> None:
    assert _names_commands(line, ["engine", "measure"])


def test_the_check_lets_the_library_through() -> None:
    assert not _names_commands("from engine.training import train_model", ["engine", "measure"])
    assert not _names_commands("from .. import training", ["engine", "measure"])


def test_no_function_of_the_shipped_code_is_over_80_lines():
    # Longer ones read as several jobs in one: split them where it reads better.
    too_long = []
    for root in ("engine", "krita_plugin"):
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = node.end_lineno - node.lineno + 1
                    if length > 80:
                        too_long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}")
    assert too_long == []
