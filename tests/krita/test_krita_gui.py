"""The plugin in the full Krita GUI under Xvfb: the docker is shown (screenshot kept as an artifact)
and the `sketch_variants_generate` shortcut, pressed with xdotool, inserts the variants."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import RealKrita, add_helper_plugin, home_with_the_zip
from krita_harness import ARTIFACTS, KritaHome, xvfb_display
from krita_system import stop_process

SHORTCUT = "ctrl+alt+shift+g"  # the default in krita_plugin/sketch_variants.action


def _wait_for_file(path: Path, timeout: float, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"Krita exited ({process.returncode}) before writing {path.name}")
        if time.monotonic() > deadline:
            pytest.fail(f"Krita did not write {path.name} in time")
        time.sleep(0.2)
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def display(real_krita: RealKrita) -> Iterator[str]:
    """A private Xvfb display, so xdotool and Krita share it."""
    with xvfb_display() as name:
        yield name


@pytest.fixture(scope="module")
def gui_home(
    real_krita: RealKrita,
    plugin_zip: Path,
    engine: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> KritaHome:
    """A home with the plugin zip imported, the test driver, and the engine set."""
    root = tmp_path_factory.mktemp(f"{real_krita.name}-gui-home")
    home = home_with_the_zip(real_krita, plugin_zip, root)
    add_helper_plugin(home, "sv_test_driver")
    home.set_plugin_settings(server_url=engine.url, token=engine.token, count="2", steps="4")
    return home


@pytest.fixture(scope="module")
def gui_run(
    real_krita: RealKrita,
    gui_home: KritaHome,
    display: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """Start Krita, click the canvas, press the shortcut, and collect what the driver saw."""
    out = tmp_path_factory.mktemp("gui-driver")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = _screenshot(real_krita)
    screenshot.unlink(missing_ok=True)
    env = {
        **gui_home.env,
        "DISPLAY": display,
        "SV_DRIVER_DIR": str(out),
        "SV_SCREENSHOT": str(screenshot),
        "SV_KEY_WAIT": "20",
    }
    log = (ARTIFACTS / f"krita-gui-{real_krita.name}.log").open("w")
    krita = subprocess.Popen(
        real_krita.command(["krita", "--nosplash"]), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        ready = _wait_for_file(out / "ready.json", 240, krita)
        x, y = ready["canvas"]
        xdotool = {"env": {**env}, "check": True, "timeout": 30}
        time.sleep(2)  # let the window settle after the docker is shown
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], **xdotool)
        time.sleep(0.5)
        subprocess.run(["xdotool", "key", "--clearmodifiers", SHORTCUT], **xdotool)
        (out / "key-sent").touch()
        result = _wait_for_file(out / "result.json", 300, krita)
        try:
            krita.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        return {"ready": ready, **result}
    finally:
        if krita.poll() is None:
            stop_process(krita)
        log.close()


def _screenshot(real_krita: RealKrita) -> Path:
    return ARTIFACTS / f"{real_krita.name}-gui-docker.png"


def test_the_docker_is_shown_and_screenshotted(gui_run: dict, real_krita: RealKrita) -> None:
    assert "error" not in gui_run, gui_run.get("error")
    assert gui_run["ready"]["docker_visible"]
    assert gui_run["ready"]["docker_title"] == "Sketch Variants"
    assert {"Upscale (crisp, slower)", "Clean fills", "Live"} <= set(
        gui_run["ready"]["docker_toggles"]
    )
    screenshot = _screenshot(real_krita)
    assert screenshot.exists() and screenshot.stat().st_size > 10_000


def test_the_generate_shortcut_inserts_variants_above_the_sketch(
    gui_run: dict, real_krita: RealKrita
) -> None:
    assert "error" not in gui_run, gui_run.get("error")
    (ARTIFACTS / f"krita-gui-trigger-{real_krita.name}.txt").write_text(f"{gui_run['trigger']}\n")
    assert gui_run["stack"] == ["Background", "eye sketch", "eye sketch - variants"]
    names = [layer["name"] for layer in gui_run["layers"]]
    assert [name.split(" (")[0] for name in names] == [
        "eye sketch - variant 1",
        "eye sketch - variant 2",
    ]
    assert all(layer["opaque"] > 0 for layer in gui_run["layers"])
    assert gui_run["message"] == "2 variants of 'eye sketch' added."
    # The real key press is what must work; the driver's action fallback is only a diagnosis.
    assert gui_run["trigger"] == "shortcut"
