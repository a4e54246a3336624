"""Shared fixtures for the packaging tests: a small plugin source and the packaging scripts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The packaging scripts are stand-alone (stdlib only, run by the system python), not a package.
sys.path.insert(0, str(ROOT / "packaging"))

ACTION_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ActionCollection version="2" name="Scripts">
  <Actions category="Scripts">
    <text>Demo</text>
    <Action name="demo_plugin_go"><text>Go</text><shortcut>Ctrl+Alt+G</shortcut></Action>
  </Actions>
</ActionCollection>
"""


@pytest.fixture
def plugin_src(tmp_path: Path) -> Path:
    """A minimal plugin source folder laid out like krita_plugin/."""
    src = tmp_path / "plugin_src"
    package = src / "demo_plugin"
    (package / "ui").mkdir(parents=True)
    (src / "demo_plugin.desktop").write_text(
        "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\n"
        "X-KDE-Library=demo_plugin\nName=Demo Plugin\n"
    )
    (src / "demo_plugin.action").write_text(ACTION_XML)
    (package / "__init__.py").write_text("ACTION = 'demo_plugin_go'\n")
    (package / "ui" / "__init__.py").write_text("")
    (package / "Manual.html").write_text("<p>manual</p>\n")
    # Caches a developer's checkout will have, which must not ship.
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    return src
