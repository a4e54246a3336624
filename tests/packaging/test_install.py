"""make install / uninstall into a temporary home: files, kritarc, idempotence, clean removal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The packaging scripts are stand-alone (stdlib only, run by the system python), not a package.
sys.path.insert(0, str(ROOT / "packaging"))
import install  # noqa: E402
from install import Locations, read_kritarc_key, set_kritarc_key  # noqa: E402

INSTALL_SCRIPT = ROOT / "packaging" / "install.py"

KRITARC = """[General]
LastPreset=b) Basic-5 Size
ColorSpace[$e]=$HOME/x

[python]
enable_comics_project_management_tools=false
enable_ten_brushes=true

[MainWindow]
State=AAAA/wAAAAD9==
"""


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under root, to compare trees before and after."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A temporary HOME whose XDG folders are set the way a Linux desktop sets them."""
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "kritarc").write_text(KRITARC)
    # Krita data another plugin and the user already have; install must leave it alone.
    other = tmp_path / ".local" / "share" / "krita" / "pykrita" / "ten_brushes"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    return tmp_path


def run_installer(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run packaging/install.py as `make install` does, with HOME and XDG dirs in `home`."""
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    return subprocess.run(
        [sys.executable, str(INSTALL_SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def test_set_kritarc_key_keeps_everything_else() -> None:
    """Setting and removing a key changes that one line and nothing else."""
    enabled = set_kritarc_key(KRITARC, "python", "enable_sketch_variants", "true")
    assert read_kritarc_key(enabled, "python", "enable_sketch_variants") == "true"
    assert enabled.replace("enable_sketch_variants=true\n", "") == KRITARC
    assert set_kritarc_key(enabled, "python", "enable_sketch_variants", None) == KRITARC


def test_set_kritarc_key_adds_the_section_when_missing() -> None:
    """A kritarc without [python] gets one, appended after the existing sections."""
    text = "[General]\nA=1\n"
    updated = set_kritarc_key(text, "python", "enable_x", "true")
    assert updated == "[General]\nA=1\n\n[python]\nenable_x=true\n"


def test_install_plugin_into_temporary_home(home: Path) -> None:
    """Plugin files land in pykrita/ and actions/, kritarc enables it and keeps the rest."""
    before = snapshot(home)
    result = run_installer(home, "install", "--no-engine")
    assert "Restart Krita" in result.stdout
    krita = home / ".local" / "share" / "krita"
    assert (krita / "pykrita" / "sketch_variants.desktop").is_file()
    assert (krita / "pykrita" / "sketch_variants" / "__init__.py").is_file()
    assert (krita / "actions" / "sketch_variants.action").is_file()
    assert not list((krita / "pykrita" / "sketch_variants").rglob("__pycache__"))
    kritarc = (home / ".config" / "kritarc").read_text()
    assert read_kritarc_key(kritarc, "python", "enable_sketch_variants") == "true"
    assert kritarc.replace("enable_sketch_variants=true\n", "") == KRITARC

    # A second run changes nothing but the refreshed copies.
    after_first = snapshot(home)
    run_installer(home, "install", "--no-engine")
    assert snapshot(home) == after_first

    run_installer(home, "uninstall")
    assert snapshot(home) == before


def test_uninstall_restores_a_previous_setting(home: Path) -> None:
    """A plugin the user had disabled before install is disabled again after uninstall."""
    kritarc = home / ".config" / "kritarc"
    kritarc.write_text(KRITARC.replace("[python]\n", "[python]\nenable_sketch_variants=false\n"))
    before = kritarc.read_text()
    run_installer(home, "install", "--no-engine")
    assert read_kritarc_key(kritarc.read_text(), "python", "enable_sketch_variants") == "true"
    run_installer(home, "install", "--no-engine")
    run_installer(home, "uninstall")
    assert kritarc.read_text() == before


def test_install_without_kritarc_and_uninstall_removes_it(tmp_path: Path) -> None:
    """On a machine where Krita never ran, install creates kritarc and uninstall removes it."""
    run_installer(tmp_path, "install", "--no-engine")
    kritarc = tmp_path / ".config" / "kritarc"
    assert kritarc.read_text() == "[python]\nenable_sketch_variants=true\n"
    run_installer(tmp_path, "uninstall")
    assert not kritarc.exists()
    assert not list(tmp_path.iterdir())


def test_uninstall_keeps_user_models(home: Path) -> None:
    """Models the user trained live in the engine's data folder and survive uninstall."""
    run_installer(home, "install", "--no-engine")
    model = home / ".local" / "share" / "sketch-variants" / "models" / "mine" / "config.json"
    model.parent.mkdir(parents=True)
    model.write_text("{}")
    run_installer(home, "uninstall")
    assert model.is_file()


def test_install_engine_venv(tmp_path: Path) -> None:
    """The engine goes into its own venv, not editable, with weights where it looks for them."""
    where = Locations(
        krita_dir=tmp_path / "krita", kritarc=tmp_path / "kritarc", app_dir=tmp_path / "app"
    )
    # --no-deps: the dependencies are TensorFlow and friends, too slow to fetch in a unit test.
    install.install(where, with_engine=True, pip_args=["--no-deps", "--quiet"])
    python = install.venv_python(where.venv_dir)
    probe = "import engine, engine.paths as p; print(engine.__file__); print(p.DEFAULT_MODEL_DIR)"
    command = [str(python), "-I", "-c", probe]
    found = subprocess.run(command, capture_output=True, text=True, check=True)
    module_file, model_dir = found.stdout.split()
    assert Path(module_file).is_relative_to(where.venv_dir)
    if (ROOT / "weights" / "default").is_dir():
        assert sorted(os.listdir(model_dir)) == sorted(os.listdir(ROOT / "weights" / "default"))
    install.uninstall(where)
    assert not where.app_dir.exists()
    assert not where.kritarc.exists()


@pytest.mark.parametrize(
    ("platform", "krita_dir", "kritarc", "python"),
    [
        ("win32", "Roaming/krita", "Local/kritarc", "venv/Scripts/python.exe"),
        (
            "darwin",
            "Library/Application Support/krita",
            "Library/Preferences/kritarc",
            "venv/bin/python",
        ),
        ("linux", "data/krita", "config/kritarc", "venv/bin/python"),
    ],
)
def test_default_locations_per_platform(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    krita_dir: str,
    kritarc: str,
    python: str,
) -> None:
    """Windows and macOS faked: Krita's folders per platform, the engine's venv python likewise."""
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    where = install.default_locations(platform)
    assert where.krita_dir == tmp_path / krita_dir
    assert where.kritarc == tmp_path / kritarc
    assert where.app_dir == tmp_path / "data" / "sketch-variants"
    assert install.venv_python(where.venv_dir, platform) == where.app_dir / python


def test_the_installer_imports_beside_a_folder_named_krita(tmp_path: Path) -> None:
    """The installer borrows the plugin's settings module; any folder named `krita` on the path
    (this repository's tests/krita is one) must not make the plugin think it runs inside Krita."""
    (tmp_path / "krita").mkdir()
    probe = f"import sys; sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT / 'packaging')!r}]; " + (
        "import install, sketch_variants; print(hasattr(sketch_variants, 'CONTROLLER'))"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "False"
