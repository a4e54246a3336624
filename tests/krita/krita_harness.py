"""Running real Krita for tests: system tools, a throwaway Krita home with the plugin installed by
the project's installer, the real engine server, and Krita programs under Xvfb."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = REPO / "out" / "test-artifacts"
SYSTEM_TOOLS = {"krita": "krita", "kritarunner": "krita", "Xvfb": "xvfb", "xdotool": "xdotool"}
ENGINE_START_TIMEOUT = 420  # seconds: TensorFlow alone took 200 s to import on a loaded 2-core box


def missing_system_packages() -> list[str]:
    """Debian packages to install for the real-Krita tests."""
    missing = {pkg for tool, pkg in SYSTEM_TOOLS.items() if shutil.which(tool) is None}
    # Debian's krita only *recommends* PyQt5, without which no Python plugin loads at all.
    probe = ["/usr/bin/python3", "-c", "import PyQt5.QtCore, PyQt5.QtNetwork, PyQt5.QtWidgets"]
    if not Path(probe[0]).exists() or subprocess.run(probe, capture_output=True).returncode:
        missing.add("python3-pyqt5")
    return sorted(missing)


@contextmanager
def xvfb_display() -> Iterator[str]:
    """A private Xvfb display (":N"), without xvfb-run, whose xauth is only a recommendation."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def install_system_packages(packages: list[str]) -> str:
    """apt-get install `packages` when root with apt; return why not otherwise ("" when done)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"real-Krita tests need: apt-get install -y {' '.join(packages)} (as root)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=True, env=env)
    return ""


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
            PYTHONPATH=str(HERE),  # kritarunner -s NAME imports scenario scripts from here
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


def start_engine(model: Path, token_file: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`python -m engine serve --port 0` from this checkout; returns the process and its URL."""
    with log.open("w") as err:
        process = subprocess.Popen(
            [
                str(REPO / ".venv" / "bin" / "python"),
                "-m",
                "engine",
                "serve",
                "--port",
                "0",
                "--token-file",
                str(token_file),
                "--model",
                str(model),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while selector.select(timeout=ENGINE_START_TIMEOUT):
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("ENGINE_READY "):
            return process, line.split(" ", 1)[1].strip()
    stop_process(process)
    raise RuntimeError(f"the engine did not start; its log: {log.read_text()[-800:]}")


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
