"""The plugin's default shortcuts do not clash with any of Krita's own (a clash never fires)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import RealKrita
from krita_harness import REPO

PLUGIN_ACTIONS = REPO / "krita_plugin" / "sketch_variants.action"


def _key(text: str) -> frozenset[str]:
    """A shortcut as a set of lower-case parts, so Ctrl+Alt+G equals alt+ctrl+g."""
    text = text.strip().lower().replace("++", "+plus")
    return frozenset(part.strip() for part in text.split("+"))


def _shortcuts(path: Path) -> dict[str, list[frozenset[str]]]:
    """Action name -> its default shortcuts in one .action file."""
    found: dict[str, list[frozenset[str]]] = {}
    for action in ET.parse(path).getroot().iter("Action"):
        text = action.findtext("shortcut") or ""
        keys = [_key(part) for part in re.split(r"[;,]", text) if part.strip()]
        found[action.get("name", "")] = keys
    return found


def test_every_plugin_action_has_a_shortcut_no_krita_action_uses(real_krita: RealKrita) -> None:
    files = sorted((real_krita.share / "actions").glob("*.action"))
    assert len(files) > 20, "Krita's action files were not found"
    taken: dict[frozenset[str], str] = {}
    for path in files:
        for name, keys in _shortcuts(path).items():
            for key in keys:
                taken.setdefault(key, f"{name} ({path.name})")
    ours = _shortcuts(PLUGIN_ACTIONS)
    assert set(ours) == {
        "sketch_variants_generate",
        "sketch_variants_fill_selected",
        "sketch_variants_live",
        "sketch_variants_live_keep",
    }
    for name, keys in ours.items():
        assert len(keys) == 1, name
        assert keys[0] not in taken, f"{name} clashes with {taken[keys[0]]}"
    assert len({keys[0] for keys in ours.values()}) == len(ours), "two of ours share a shortcut"


def test_the_action_file_matches_the_actions_the_extension_creates() -> None:
    source = (REPO / "krita_plugin" / "sketch_variants" / "actions.py").read_text()
    for name in _shortcuts(PLUGIN_ACTIONS):
        assert f'"{name}"' in source
    menu = ET.parse(PLUGIN_ACTIONS).getroot().find("Actions")
    assert menu is not None and menu.get("category") == "Scripts"
