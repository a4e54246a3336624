"""Build the Krita plugin zip that Tools > Scripts > Import Python Plugin from File accepts."""

from __future__ import annotations

import argparse
import configparser
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SRC = ROOT / "krita_plugin"
DEFAULT_OUT = ROOT / "dist" / "sketch_variants.zip"
# Zip timestamps cannot predate 1980; a fixed one makes the same sources give the same bytes.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class PluginLayoutError(ValueError):
    """The plugin source folder is not laid out the way Krita expects."""


def plugin_name(src: Path = PLUGIN_SRC) -> str:
    """The plugin's module name, read from X-KDE-Library in its single .desktop file."""
    desktops = sorted(src.glob("*.desktop"))
    if len(desktops) != 1:
        raise PluginLayoutError(f"expected one .desktop file in {src}, found {len(desktops)}")
    # Krita's importer reads the desktop file with configparser too, so this is what it will see.
    config = configparser.ConfigParser(interpolation=None)
    config.read_string(desktops[0].read_text(encoding="utf-8"))
    return config["Desktop Entry"]["X-KDE-Library"]


def _package_files(package: Path) -> list[Path]:
    """Files of the Python package, without caches and bytecode."""
    files = []
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if any(part in SKIPPED_DIRS for part in relative.parts):
            continue
        if path.is_file() and path.suffix not in SKIPPED_SUFFIXES:
            files.append(path)
    return files


def plugin_files(src: Path = PLUGIN_SRC) -> dict[str, Path]:
    """Archive name -> source: `<name>.desktop`, `<name>.action` and `<name>/...` at the root."""
    name = plugin_name(src)
    package = src / name
    if not (package / "__init__.py").is_file():
        raise PluginLayoutError(f"{package}/__init__.py is missing (named by the desktop file)")
    # Krita's importer only picks up the action file whose base name is `<X-KDE-Library>.action`.
    files = {f"{name}.desktop": src / f"{name}.desktop"}
    action = src / f"{name}.action"
    if action.is_file():
        files[f"{name}.action"] = action
    for path in _package_files(package):
        files[path.relative_to(src).as_posix()] = path
    return files


def _directories(names: list[str]) -> list[str]:
    """Every parent directory of the archive names, as `dir/` entries."""
    dirs = set()
    for name in names:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:depth]) + "/")
    return sorted(dirs)


def build_zip(out: Path, src: Path = PLUGIN_SRC) -> list[str]:
    """Write the plugin zip deterministically and return its entry names."""
    files = plugin_files(src)
    names = sorted(files)
    # Krita's importer finds the package by its `name/` directory entry, so directories are written.
    entries = sorted(_directories(names) + names)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry, date_time=FIXED_DATE)
            info.create_system = 3  # Unix, so the permission bits below are honoured on extract
            if entry.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, files[entry].read_bytes(), compresslevel=9)
    tmp.replace(out)
    return entries


def main(argv: list[str] | None = None) -> int:
    """Command line: build the zip and say where it is."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", type=Path, default=PLUGIN_SRC, help="plugin source folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="zip to write")
    args = parser.parse_args(argv)
    try:
        entries = build_zip(args.out, args.src)
    except PluginLayoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    files = sum(not entry.endswith("/") for entry in entries)
    print(f"built {args.out} ({files} files)")
    print("Krita: Tools > Scripts > Import Python Plugin from File..., then restart Krita")
    return 0


if __name__ == "__main__":
    sys.exit(main())
