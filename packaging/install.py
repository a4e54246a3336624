"""Install or uninstall Sketch Variants: the engine in its own venv, the plugin into Krita."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_plugin_zip import PLUGIN_SRC, plugin_files, plugin_name  # noqa: E402

# The plugin's settings module is stdlib-only: the installer and the plugin find the engine's
# Python with the same function, so they cannot disagree on a platform.
sys.path.insert(0, str(PLUGIN_SRC))
from sketch_variants.settings import venv_python  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "sketch-variants"
MANIFEST_NAME = "install-manifest.json"
KRITARC_SECTION = "python"


@dataclass(frozen=True)
class Locations:
    """Where an install puts things; every field can be overridden for tests and odd setups."""

    krita_dir: Path  # Krita's resource folder, holding pykrita/ and actions/
    kritarc: Path  # Krita's settings file, where enabled Python plugins are listed
    app_dir: Path  # the engine's data folder (same as engine.paths.user_data_dir())

    @property
    def venv_dir(self) -> Path:
        """The engine's own virtual environment."""
        return self.app_dir / "venv"

    @property
    def manifest(self) -> Path:
        """Record of what install added, so uninstall removes exactly that."""
        return self.app_dir / MANIFEST_NAME


def _env_dir(variable: str, fallback: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else fallback


def default_locations(platform: str = sys.platform) -> Locations:
    """`platform`'s Krita folders and the engine's XDG data folder (as in engine/paths.py)."""
    home = Path.home()
    data_home = _env_dir("XDG_DATA_HOME", home / ".local" / "share")
    if platform == "win32":
        krita_dir = _env_dir("APPDATA", home / "AppData" / "Roaming") / "krita"
        kritarc = _env_dir("LOCALAPPDATA", home / "AppData" / "Local") / "kritarc"
    elif platform == "darwin":
        krita_dir = home / "Library" / "Application Support" / "krita"
        kritarc = home / "Library" / "Preferences" / "kritarc"
    else:
        krita_dir = data_home / "krita"
        kritarc = _env_dir("XDG_CONFIG_HOME", home / ".config") / "kritarc"
    return Locations(krita_dir=krita_dir, kritarc=kritarc, app_dir=data_home / APP_NAME)


# --- kritarc -------------------------------------------------------------------------------------
# kritarc is KConfig, not strict INI (case-sensitive keys, `[$e]` markers, odd values), so it is
# edited line by line: configparser would rewrite every line Krita and the user put there.


def _section_bounds(lines: list[str], section: str) -> tuple[int, int] | None:
    """(header index, end index) of `[section]` in kritarc lines, or None."""
    start = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if start is None and stripped == f"[{section}]":
            start = index
        elif start is not None and stripped.startswith("[") and stripped.endswith("]"):
            return start, index
    return None if start is None else (start, len(lines))


def read_kritarc_key(text: str, section: str, key: str) -> str | None:
    """The value of `key` in `[section]`, or None when absent."""
    lines = text.splitlines()
    bounds = _section_bounds(lines, section)
    if bounds is None:
        return None
    for line in lines[bounds[0] + 1 : bounds[1]]:
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    return None


def set_kritarc_key(text: str, section: str, key: str, value: str | None) -> str:
    """kritarc text with `[section]` `key` set to value (removed when None), the rest untouched."""
    lines = text.splitlines()
    bounds = _section_bounds(lines, section)
    if bounds is None:
        if value is None:
            return text
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"[{section}]", f"{key}={value}"]
        return "\n".join(lines) + "\n"
    start, end = bounds
    for index in range(start + 1, end):
        name, sep, _ = lines[index].partition("=")
        if sep and name.strip() == key:
            if value is None:
                del lines[index]
            else:
                lines[index] = f"{key}={value}"
            break
    else:
        if value is None:
            return text
        # Insert after the section's last non-blank line, keeping the blank line between sections.
        insert_at = end
        while insert_at > start + 1 and not lines[insert_at - 1].strip():
            insert_at -= 1
        lines.insert(insert_at, f"{key}={value}")
    return "\n".join(lines) + "\n"


def _drop_empty_section(text: str, section: str) -> str:
    """kritarc text without `[section]` when that section has no keys left."""
    lines = text.splitlines()
    bounds = _section_bounds(lines, section)
    if bounds is None or any(line.strip() for line in lines[bounds[0] + 1 : bounds[1]]):
        return text
    start, end = bounds
    if start > 0 and not lines[start - 1].strip():
        start -= 1  # the blank separator install added before the section
    del lines[start:end]
    return "\n".join(lines) + "\n" if lines else ""


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".sketch-variants.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# --- engine --------------------------------------------------------------------------------------


def install_engine(venv_dir: Path, repo: Path, pip_args: list[str]) -> Path:
    """Create the engine venv if needed, pip-install the repo into it; return its python."""
    python = venv_python(venv_dir)
    if not python.exists():
        print(f"creating the engine environment in {venv_dir}")
        venv.EnvBuilder(with_pip=True, clear=False).create(venv_dir)
    # --upgrade reinstalls the project from the checkout but leaves satisfied dependencies alone.
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--upgrade"]
    subprocess.run([*command, *pip_args, str(repo)], check=True)
    return python


def install_weights(python: Path, repo: Path) -> Path | None:
    """Copy the shipped weights to where the installed engine looks for them; return that place."""
    source = repo / "weights" / "default"
    probe = "from engine.paths import DEFAULT_MODEL_DIR as d; print(d)"
    # -I keeps the checkout (the current folder) off sys.path, so this asks the installed engine.
    command = [str(python), "-I", "-c", probe]
    found = subprocess.run(command, check=True, capture_output=True, text=True)
    target = Path(found.stdout.strip())
    if target.resolve() == source.resolve() or (target.is_dir() and not source.is_dir()):
        return target  # editable install, or weights already packaged with the engine
    if not source.is_dir():
        print(f"warning: no weights at {source}; the engine will need a model to be named")
        return None
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


# --- plugin and manifest -------------------------------------------------------------------------


def _destination(arcname: str, name: str, where: Locations) -> Path:
    """Where one plugin file goes: the action file into actions/, the rest into pykrita/."""
    if arcname == f"{name}.action":
        return where.krita_dir / "actions" / arcname
    return where.krita_dir / "pykrita" / arcname


def install_plugin(where: Locations, src: Path = PLUGIN_SRC) -> list[Path]:
    """Copy the plugin into Krita's resource folder; return the top-level paths it owns."""
    name = plugin_name(src)
    package_dir = where.krita_dir / "pykrita" / name
    # Replace the package wholesale so files deleted from the plugin do not linger.
    if package_dir.exists():
        shutil.rmtree(package_dir)
    for arcname, source in plugin_files(src).items():
        target = _destination(arcname, name, where)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    owned = [where.krita_dir / "pykrita" / f"{name}.desktop", package_dir]
    action = _destination(f"{name}.action", name, where)
    return owned + ([action] if action.exists() else [])


def enable_plugin(where: Locations, name: str, previous: dict | None) -> dict:
    """Set enable_<name>=true in kritarc; return what uninstall needs to put it back."""
    key = f"enable_{name}"
    text = where.kritarc.read_text(encoding="utf-8") if where.kritarc.exists() else ""
    if previous is None:  # first install: remember the state before we touched anything
        previous = {
            "file_existed": where.kritarc.exists(),
            "section_existed": _section_bounds(text.splitlines(), KRITARC_SECTION) is not None,
            "value": read_kritarc_key(text, KRITARC_SECTION, key),
        }
    updated = set_kritarc_key(text, KRITARC_SECTION, key, "true")
    if updated != text:
        _write_atomic(where.kritarc, updated)
    return previous


def restore_kritarc(where: Locations, name: str, previous: dict) -> None:
    """Put kritarc's plugin key back the way it was before the first install."""
    if not where.kritarc.exists():
        return
    text = where.kritarc.read_text(encoding="utf-8")
    updated = set_kritarc_key(text, KRITARC_SECTION, f"enable_{name}", previous.get("value"))
    if not previous.get("section_existed", True):
        updated = _drop_empty_section(updated, KRITARC_SECTION)
    if not previous.get("file_existed", True) and not updated.strip():
        where.kritarc.unlink()
    elif updated != text:
        _write_atomic(where.kritarc, updated)


def _read_manifest(where: Locations) -> dict | None:
    if not where.manifest.exists():
        return None
    return json.loads(where.manifest.read_text(encoding="utf-8"))


def _missing_dirs(targets: list[Path]) -> list[Path]:
    """The folders (and parents) among targets that do not exist yet, deepest first."""
    missing: set[Path] = set()
    for target in targets:
        for folder in (target, *target.parents):
            if folder.exists():
                break
            missing.add(folder)
    return sorted(missing, key=lambda folder: len(folder.parts), reverse=True)


def install(where: Locations, with_engine: bool, pip_args: list[str], repo: Path = ROOT) -> None:
    """Install (or refresh) the engine and the plugin, and enable the plugin."""
    old = _read_manifest(where) or {}
    folders = [where.app_dir, where.krita_dir / "pykrita", where.krita_dir / "actions"]
    folders.append(where.kritarc.parent)
    # Only the first install knows which folders were there before; a refresh keeps that record.
    created_dirs = old.get("created_dirs", [str(d) for d in _missing_dirs(folders)])
    where.app_dir.mkdir(parents=True, exist_ok=True)
    name = plugin_name(repo / "krita_plugin")
    paths = [str(p) for p in install_plugin(where, repo / "krita_plugin")]
    previous = enable_plugin(where, name, old.get("kritarc_previous"))
    engine = old.get("engine")
    if with_engine:
        python = install_engine(where.venv_dir, repo, pip_args)
        install_weights(python, repo)
        engine = {"venv": str(where.venv_dir), "python": str(python)}
    manifest = {
        "plugin": name,
        "paths": paths,
        "engine": engine,
        "kritarc": str(where.kritarc),
        "kritarc_previous": previous,
        "created_dirs": created_dirs,
    }
    _write_atomic(where.manifest, json.dumps(manifest, indent=2) + "\n")
    print(f"plugin installed in {where.krita_dir / 'pykrita'} and enabled in {where.kritarc}")
    if engine:
        print(f"engine installed in {engine['venv']}")
    print("Restart Krita to load Sketch Variants (Settings > Dockers > Sketch Variants).")


def uninstall(where: Locations) -> None:
    """Remove exactly what install added, and put kritarc back."""
    manifest = _read_manifest(where)
    if manifest is None:
        print(f"nothing to uninstall: no {where.manifest}")
        return
    removed = list(manifest["paths"])
    if manifest.get("engine"):
        removed.append(manifest["engine"]["venv"])
    for item in map(Path, removed):
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        elif item.exists() or item.is_symlink():
            item.unlink()
    restore_kritarc(where, manifest["plugin"], manifest["kritarc_previous"])
    where.manifest.unlink()
    # Folders install created go too, but only when empty: the engine's data folder may also hold
    # user-trained models, and Krita's folders other plugins' files.
    for folder in map(Path, manifest.get("created_dirs", [])):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    print("Sketch Variants uninstalled; restart Krita. Trained models and tokens were kept.")


def main(argv: list[str] | None = None) -> int:
    """Command line: `install` or `uninstall`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["install", "uninstall"])
    parser.add_argument("--no-engine", action="store_true", help="install the plugin only")
    parser.add_argument("--krita-dir", type=Path, help="Krita resource folder (holds pykrita/)")
    parser.add_argument("--kritarc", type=Path, help="Krita settings file")
    parser.add_argument("--app-dir", type=Path, help="engine data folder (holds venv/)")
    parser.add_argument("--pip-arg", action="append", default=[], help="extra argument for pip")
    args = parser.parse_args(argv)
    defaults = default_locations()
    where = Locations(
        krita_dir=args.krita_dir or defaults.krita_dir,
        kritarc=args.kritarc or defaults.kritarc,
        app_dir=args.app_dir or defaults.app_dir,
    )
    if args.action == "install":
        install(where, with_engine=not args.no_engine, pip_args=args.pip_arg)
    else:
        uninstall(where)
    return 0


if __name__ == "__main__":
    sys.exit(main())
