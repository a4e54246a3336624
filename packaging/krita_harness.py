"""Running real Krita from a script: a throwaway Krita home with the plugin put there by the
project's installer, Krita programs under a private Xvfb display, and waiting inside Krita.

`make demo` (packaging/demo.py, packaging/krita_demo.py) and the real-Krita tests both use it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ARTIFACTS = REPO / "out" / "test-artifacts"  # Krita's logs and screenshots, kept for a reader


@contextmanager
def xvfb_display() -> Iterator[str]:
    """A private Xvfb display (":N"), without xvfb-run, whose xauth is only a recommendation."""
    read, write = os.pipe()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "xvfb.log").open("a") as log:  # what the X servers said, for a reader
        # -noreset: the server would otherwise reset as its last client (the probe below, or a
        # first Krita window) leaves, and refuse whoever connects during the reset.
        server = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write),
                "-screen",
                "0",
                "1600x1000x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ],
            pass_fds=(write,),
            stderr=log,
        )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        if not number:
            raise RuntimeError("Xvfb did not start")
        _wait_for_connections(server, number)
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_connections(server: subprocess.Popen, number: str, timeout: float = 10.0) -> None:
    """Return once display :number accepts a connection on its socket. Once in a CI run, Krita
    found no X server at a display Xvfb had just announced; this says which of the two failed."""
    path = f"/tmp/.X11-unix/X{number}"
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"Xvfb :{number} exited with {server.returncode} (see xvfb.log)")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(path)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Xvfb :{number} accepts no connections at {path}") from None
        time.sleep(0.05)


@dataclass(frozen=True)
class KritaHome:
    """A throwaway HOME with Krita's resource folder, kritarc and the engine's config folder."""

    root: Path

    @property
    def env(self) -> dict[str, str]:
        """Environment for a Krita process that sees only this home."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("QT_", "XDG_", "PYTHON")) and key != "DISPLAY"
        }
        env.update(
            HOME=str(self.root),
            XDG_DATA_HOME=str(self.root / "data"),
            XDG_CONFIG_HOME=str(self.root / "config"),
            XDG_CACHE_HOME=str(self.root / "cache"),
            XDG_RUNTIME_DIR=str(self.root / "runtime"),
            PYTHONPATH=str(HERE),  # kritarunner -s NAME imports its script from PYTHONPATH
            PYTHONDONTWRITEBYTECODE="1",
            SV_PYKRITA=str(self.pykrita),
        )
        return env

    @property
    def kritarc(self) -> Path:
        """Krita's settings file."""
        return self.root / "config" / "kritarc"

    @property
    def pykrita(self) -> Path:
        """Where Krita looks for Python plugins."""
        return self.root / "data" / "krita" / "pykrita"

    def set_plugin_settings(self, **values: str) -> None:
        """Replace the plugin's [sketch_variants] section of kritarc."""
        text = self.kritarc.read_text(encoding="utf-8") if self.kritarc.exists() else ""
        kept, skipping = [], False
        for line in text.splitlines():
            if line.startswith("["):
                skipping = line.strip() == "[sketch_variants]"
            if not skipping:
                kept.append(line)
        section = ["", "[sketch_variants]", *(f"{k}={v}" for k, v in values.items())]
        self.kritarc.write_text("\n".join(kept + section) + "\n", encoding="utf-8")


def make_home(root: Path) -> KritaHome:
    """A fresh home with the plugin installed by packaging/install.py (plugin only, no engine)."""
    home = KritaHome(root)
    for folder in ("data", "config", "cache", "runtime"):
        (root / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            str(REPO / "packaging" / "install.py"),
            "install",
            "--no-engine",
            "--krita-dir",
            str(root / "data" / "krita"),
            "--kritarc",
            str(home.kritarc),
            "--app-dir",
            str(root / "data" / "sketch-variants"),
        ],
        check=True,
        env=home.env,
        capture_output=True,
    )
    # Xvfb has no GPU: Krita's OpenGL canvas fails to compile its shaders and crashes there.
    (root / "config" / "kritadisplayrc").write_text("[General]\nOpenGLRenderer=none\n")
    text = home.kritarc.read_text(encoding="utf-8")
    home.kritarc.write_text("[General]\nOpenGLRenderer=none\n\n" + text, encoding="utf-8")
    return home


def run_krita(
    home: KritaHome, argv: list[str], timeout: float, log_name: str, **env: str
) -> subprocess.CompletedProcess:
    """Run a Krita program under a fresh Xvfb display; keep its output as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with xvfb_display() as display:
        result = subprocess.run(
            argv,
            env={**home.env, "DISPLAY": display, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    (ARTIFACTS / log_name).write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    return result


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    """Inside Krita: run its event loop until predicate() holds or `timeout` s pass."""
    # Krita's own Qt binding, through the plugin; not needed outside Krita.
    from sketch_variants.qt import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    while not predicate() and time.monotonic() < deadline:
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return predicate()
