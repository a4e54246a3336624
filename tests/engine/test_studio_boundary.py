"""Ray stays an optional extra: only engine/studio imports it, and never where the CLI starts."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def _ray_imports(tree: ast.AST) -> list[int]:
    """Line numbers of the imports of ray (or a ray submodule) anywhere in `tree`."""
    lines = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        if any(name == "ray" or name.startswith("ray.") for name in names):
            lines.append(node.lineno)
    return lines


def _top_level_imports(path: Path) -> list[str]:
    """The modules a file imports when it is itself imported (not inside functions)."""
    names = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_only_the_studio_package_imports_ray() -> None:
    importers = {
        str(path.relative_to(ENGINE.parent))
        for path in ENGINE.rglob("*.py")
        if _ray_imports(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert importers and all(name.startswith("engine/studio/") for name in importers), importers


def test_the_cli_loads_the_studio_commands_without_ray() -> None:
    # `python -m engine --help` imports every command module: those of the studio must not
    # import Ray (or a studio module that does) until they run.
    for path in (ENGINE / "studio" / "command.py", ENGINE / "commands" / "bench_studio.py"):
        for name in _top_level_imports(path):
            assert name != "ray" and not name.startswith("ray."), (path, name)
            if name.startswith("engine.studio."):
                module = ENGINE.parent / (name.replace(".", "/") + ".py")
                assert not _ray_imports(ast.parse(module.read_text(encoding="utf-8"))), name
