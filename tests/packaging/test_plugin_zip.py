"""The plugin zip: layout Krita's importer accepts, every action present, same bytes every build."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The packaging scripts are stand-alone (stdlib only, run by the system python), not a package.
sys.path.insert(0, str(ROOT / "packaging"))
from build_plugin_zip import PLUGIN_SRC, PluginLayoutError, build_zip, plugin_name  # noqa: E402

KRITA_IMPORTER = Path("/usr/share/krita/pykrita/plugin_importer/plugin_importer.py")


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


def action_names(xml_bytes: bytes) -> set[str]:
    """Names of the <Action> elements in a Krita .action file."""
    return {action.get("name", "") for action in ET.fromstring(xml_bytes).iter("Action")}


def test_zip_layout(plugin_src: Path, tmp_path: Path) -> None:
    """Desktop file, action file and package sit at the root; caches are left out."""
    out = tmp_path / "plugin.zip"
    build_zip(out, plugin_src)
    names = zipfile.ZipFile(out).namelist()
    assert "demo_plugin.desktop" in names
    assert "demo_plugin.action" in names
    # Krita's importer looks the package up by its directory entry, then checks __init__.py.
    assert "demo_plugin/" in names and "demo_plugin/__init__.py" in names
    assert "demo_plugin/ui/__init__.py" in names and "demo_plugin/Manual.html" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_zip_is_deterministic(plugin_src: Path, tmp_path: Path) -> None:
    """Two builds, with file times changed between them, give identical bytes."""
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    build_zip(first, plugin_src)
    later = time.time() + 3600
    for path in plugin_src.rglob("*"):
        os.utime(path, (later, later))
    build_zip(second, plugin_src)
    assert first.read_bytes() == second.read_bytes()


def test_missing_package_is_an_error(plugin_src: Path, tmp_path: Path) -> None:
    """A desktop file naming a package that is not there stops the build."""
    (plugin_src / "demo_plugin" / "__init__.py").unlink()
    with pytest.raises(PluginLayoutError, match="__init__.py"):
        build_zip(tmp_path / "plugin.zip", plugin_src)


def _load_krita_importer() -> type:
    """Krita's own PluginImporter class, loaded from the installed Krita."""
    assert KRITA_IMPORTER.exists(), "Krita is not installed: `make test` as root installs it"
    spec = importlib.util.spec_from_file_location("krita_plugin_importer", KRITA_IMPORTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PluginImporter


def test_krita_importer_accepts_the_zip(plugin_src: Path, tmp_path: Path) -> None:
    """Krita's own importer finds the plugin and puts the action file into actions/."""
    out = tmp_path / "plugin.zip"
    build_zip(out, plugin_src)
    resources = tmp_path / "resources"
    resources.mkdir()
    imported = _load_krita_importer()(str(out), str(resources), lambda plugin: True).import_all()
    assert [plugin["name"] for plugin in imported] == ["demo_plugin"]
    assert (resources / "pykrita" / "demo_plugin.desktop").is_file()
    assert (resources / "pykrita" / "demo_plugin" / "ui" / "__init__.py").is_file()
    assert (resources / "actions" / "demo_plugin.action").is_file()


# --- the real plugin -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip built from the repository's krita_plugin/."""
    out = tmp_path_factory.mktemp("dist") / "sketch_variants.zip"
    build_zip(out)
    return out


def test_real_plugin_zip_layout(real_zip: Path) -> None:
    """The shipped zip holds sketch_variants.desktop, .action and the package at its root."""
    names = zipfile.ZipFile(real_zip).namelist()
    assert plugin_name() == "sketch_variants"
    for name in ("sketch_variants.desktop", "sketch_variants.action", "sketch_variants/"):
        assert name in names
    assert "sketch_variants/__init__.py" in names


def _string_constants(package: Path) -> set[str]:
    """Every string literal in the package's Python source."""
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def _created_action_ids() -> set[str]:
    """The ids the extension passes to createAction: the plugin's ACTIONS table (Krita-free)."""
    # A child process, so importing the plugin leaves this test session's modules alone.
    probe = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from sketch_variants.actions import ACTIONS;"
        "print(json.dumps([row[0] for row in ACTIONS]))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-c", probe, str(PLUGIN_SRC)]
    found = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return set(json.loads(found.stdout))


def test_real_plugin_actions_all_present(real_zip: Path) -> None:
    """Each action the plugin creates is in the zipped .action file; one carries a shortcut."""
    archive = zipfile.ZipFile(real_zip)
    declared = action_names(archive.read("sketch_variants.action"))
    assert declared, "the .action file declares no actions"
    shortcuts = ET.fromstring(archive.read("sketch_variants.action")).iter("shortcut")
    assert any((element.text or "").strip() for element in shortcuts)
    created = _created_action_ids()
    assert created <= declared, f"missing from the .action file: {sorted(created - declared)}"
    # An action file entry nobody creates would be a shortcut that silently does nothing.
    literals = _string_constants(PLUGIN_SRC / "sketch_variants")
    assert declared <= literals, f"declared but never created: {sorted(declared - literals)}"


def test_krita_importer_accepts_the_real_zip(real_zip: Path, tmp_path: Path) -> None:
    """Krita's importer installs the shipped zip: desktop file, package and action file."""
    resources = tmp_path / "resources"
    resources.mkdir()
    imported = _load_krita_importer()(str(real_zip), str(resources), lambda p: True).import_all()
    assert [plugin["name"] for plugin in imported] == ["sketch_variants"]
    assert (resources / "actions" / "sketch_variants.action").is_file()
    assert (resources / "pykrita" / "sketch_variants" / "__init__.py").is_file()
