"""Starts an engine on this machine whenever engine_launcher.py connects to its Unix socket (in
/tmp, which Krita 6's root shares), relays the engine's output to the launcher, and stops the
engine when the launcher goes: the plugin starts and stops a real engine as it would its own."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "engine_launcher.py"


class EngineBroker:
    """Listens on a fresh socket; `command` is the plugin's engine command that reaches it."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.argv, self.log = argv, log
        self.started = 0  # engines started for a launcher
        self.stopped = 0  # engines stopped because their launcher went
        self._folder = tempfile.TemporaryDirectory(prefix="sv-broker-", dir="/tmp")
        self.socket_path = str(Path(self._folder.name) / "engine")  # short: 108 bytes at most
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.socket_path)
        self._listener.listen()
        self._engines: list[subprocess.Popen] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def command(self) -> str:
        """The engine command for the plugin's settings (Krita's python3 runs the launcher)."""
        return f"python3 {LAUNCHER} {self.socket_path}"

    def close(self) -> None:
        """Stop listening and stop every engine still running."""
        self._listener.close()
        for engine in self._engines:
            engine.terminate()
            engine.wait(timeout=30)
        self._folder.cleanup()

    def _accept(self) -> None:
        while True:
            try:
                launcher, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self.log.open("ab") as log:
                engine = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=log)
            self._engines.append(engine)
            self.started += 1
            threading.Thread(target=self._relay, args=(engine, launcher), daemon=True).start()
            threading.Thread(target=self._watch, args=(engine, launcher), daemon=True).start()

    def _relay(self, engine: subprocess.Popen, launcher: socket.socket) -> None:
        assert engine.stdout is not None
        for line in engine.stdout:
            try:
                launcher.sendall(line)
            except OSError:
                return
        # The engine exited: end the launcher too, so the plugin sees its engine exit. Shutdown,
        # not close: _watch's recv holds the socket open until then.
        with contextlib.suppress(OSError):
            launcher.shutdown(socket.SHUT_RDWR)

    def _watch(self, engine: subprocess.Popen, launcher: socket.socket) -> None:
        """The launcher never writes: the socket reads empty once it exits."""
        with contextlib.suppress(OSError):
            launcher.recv(1)
        launcher.close()
        if engine.poll() is None:
            engine.terminate()
            engine.wait(timeout=30)
            self.stopped += 1
