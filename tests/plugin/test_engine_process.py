"""The local engine process: stopping never blocks Krita's main thread; the engine's Python is
found per platform (Windows and macOS faked here)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from plugin_helpers import wait_for
from sketch_variants import settings as settings_module
from sketch_variants.engine_process import EngineProcess, is_path

# Ready at once, then ignores SIGTERM: only the kill after the grace period ends it.
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ENGINE_READY http://127.0.0.1:9', flush=True); time.sleep(60)"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def test_stop_returns_before_a_stubborn_engine_exits_then_kills_it() -> None:
    process = EngineProcess()
    urls: list[str] = []
    process.start([sys.executable, "-c", STUBBORN], ".", 30, urls.append, lambda message: None)
    wait_for(lambda: bool(urls))
    pid = int(process._process.processId())  # type: ignore[union-attr]
    process.stop()
    # Had stop() waited for the engine, the engine would be dead (killed) by now.
    assert _alive(pid) and process.stopping and not process.running
    wait_for(lambda: not process.stopping, timeout=20)
    assert not _alive(pid)


@pytest.mark.parametrize(
    ("platform", "python"),
    [
        ("win32", "venv/Scripts/python.exe"),
        ("darwin", "venv/bin/python"),
        ("linux", "venv/bin/python"),
    ],
)
def test_the_installed_engine_python_is_found_on_each_platform(
    isolated_home: Path, platform: str, python: str
) -> None:
    installed = isolated_home / "data" / "sketch-variants" / python
    installed.parent.mkdir(parents=True)
    installed.touch()
    argv, cwd = settings_module.engine_command(settings_module.Settings(), platform)
    assert argv == [str(installed), "-m", "engine", "serve", "--port", "0"]
    assert cwd == str(isolated_home / "data" / "sketch-variants")


def test_a_checkout_on_windows_uses_its_scripts_folder(isolated_home: Path) -> None:
    argv, _ = settings_module.engine_command(settings_module.Settings(), "win32")
    repo = settings_module.repo_root()
    # No checkout venv for Windows here: the installed path is named, to say what is missing.
    assert argv[0] == str(isolated_home / "data/sketch-variants/venv/Scripts/python.exe")
    assert settings_module.venv_python(repo / ".venv", "win32") == repo / ".venv/Scripts/python.exe"


def test_a_windows_engine_command_keeps_its_backslashes() -> None:
    command = r'"C:\Program Files\SV\venv\Scripts\python.exe" -m engine serve --port 0'
    assert settings_module.split_command(command, "win32") == [
        r"C:\Program Files\SV\venv\Scripts\python.exe",
        "-m",
        "engine",
        "serve",
        "--port",
        "0",
    ]
    assert settings_module.split_command("eng --x 'a b'", "darwin") == ["eng", "--x", "a b"]
    assert is_path(r"C:\SV\python.exe") and is_path("/opt/sv/python") and not is_path("python3")
