"""What the real-Krita tests need besides packaging/krita_harness.py: the system packages (installed
when root), and stopping a process (Krita) for good."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSTEM_TOOLS = {
    "krita": "krita",
    "kritarunner": "krita",
    "Xvfb": "xvfb",
    "xdotool": "xdotool",
    "debootstrap": "debootstrap",  # builds the root Krita 6 runs in
}
ENGINE_START_TIMEOUT = 420  # seconds: TensorFlow alone took 200 s to import on a loaded 2-core box


def missing_system_packages() -> list[str]:
    """Debian packages to install for the real-Krita tests."""
    missing = {pkg for tool, pkg in SYSTEM_TOOLS.items() if shutil.which(tool) is None}
    # Debian's krita only *recommends* PyQt5, without which no Python plugin loads at all.
    probe = ["/usr/bin/python3", "-c", "import PyQt5.QtCore, PyQt5.QtNetwork, PyQt5.QtWidgets"]
    if not Path(probe[0]).exists() or subprocess.run(probe, capture_output=True).returncode:
        missing.add("python3-pyqt5")
    return sorted(missing)


def install_system_packages(packages: list[str]) -> str:
    """apt-get install `packages` when root with apt; return why not otherwise ("" when done)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"real-Krita tests need: apt-get install -y {' '.join(packages)} (as root)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=True, env=env)
    return ""


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the process (engine or Krita) does not stop within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()
