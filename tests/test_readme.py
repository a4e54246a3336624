"""The README's layout section matches the tree: every path it names exists, and every engine
package has its row or its mention."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _layout_rows() -> list[tuple[str, str]]:
    """(folder, description) of each row of the README's "## Layout" table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.+) \|$", section, flags=re.MULTILINE)
    assert rows, "no layout table under ## Layout"
    return rows


def _named_paths(folder: str, description: str) -> list[Path]:
    """The paths a row's description names in backticks: from the repository's root when they
    start with one of its top-level entries, else from the row's folder (".action", a suffix,
    names none)."""
    top = {path.name for path in REPO.iterdir()}
    paths = []
    for name in re.findall(r"`([^`\s]+)`", description):
        if name.startswith("."):
            continue
        root = REPO if name.split("/")[0] in top else REPO / folder
        paths.append(root / name)
    return paths


def test_every_path_the_layout_names_exists() -> None:
    missing = []
    for folder, description in _layout_rows():
        if not (REPO / folder).is_dir():
            missing.append(folder)
        missing += [
            str(path.relative_to(REPO))
            for path in _named_paths(folder, description)
            if not path.exists()
        ]
    assert not missing, f"README's layout names paths that do not exist: {missing}"


def test_every_engine_package_is_in_the_layout() -> None:
    named = set()
    for folder, description in _layout_rows():
        named.add((REPO / folder).resolve())
        named.update(path.resolve() for path in _named_paths(folder, description))
    packages = sorted(
        path.name
        for path in (REPO / "engine").iterdir()
        if (path / "__init__.py").is_file() and path.resolve() not in named
    )
    assert not packages, f"engine packages missing from README's layout: {packages}"
