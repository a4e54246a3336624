"""The plugin's architecture, enforced by parsing its imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "krita_plugin" / "sketch_variants"
# Only these two modules may touch Krita: everything else must run on plain values.
KRITA_MODULES = {"extension.py", "adapter.py"}
# Krita's embedded Python has the standard library and PyQt (5 or 6), nothing else.
FORBIDDEN = {"numpy", "PIL", "tensorflow", "requests", "engine", "keras"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_extension_and_the_adapter_import_krita() -> None:
    importers = {path.name for path in PACKAGE.glob("*.py") if "krita" in _imports(path)}
    assert importers == KRITA_MODULES


def test_only_the_qt_module_names_a_qt_binding() -> None:
    # The same files run in Krita 5 (PyQt5) and Krita 6 (PyQt6): one module picks the binding.
    naming = {
        path.name
        for path in PACKAGE.parent.rglob("*")
        if path.is_file() and re.search(rb"PyQt[56]", path.read_bytes())
    }
    assert naming == {"qt.py"}


def test_the_plugin_needs_only_the_stdlib_and_pyqt() -> None:
    for path in PACKAGE.glob("*.py"):
        assert not _imports(path) & FORBIDDEN, path.name


def test_every_module_says_what_it_is() -> None:
    for path in PACKAGE.glob("*.py"):
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), path.name
