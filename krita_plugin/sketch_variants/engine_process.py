"""Starts a local engine with QProcess, waits for its ENGINE_READY line, and stops it."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from .client import Guard, unguarded
from .qt import QObject, QProcess, QTimer

# The engine prints this, then its URL, once it listens. Krita cannot import the engine, so this is
# the plugin's own copy; a test pins it to the engine's.
READY_PREFIX = "ENGINE_READY "
KILL_AFTER_MS = 3000  # how long a stopping engine may take to cancel its job before it is killed


def parse_ready_line(line: str) -> str | None:
    """The URL of an `ENGINE_READY http://HOST:PORT` line, else None."""
    line = line.strip()
    if line.startswith(READY_PREFIX):
        url = line[len(READY_PREFIX) :].strip()
        if url.startswith(("http://", "https://")):
            return url
    return None


def is_path(command: str) -> bool:
    """True when a command names a file (with a folder) rather than a program to find on PATH."""
    return "/" in command or "\\" in command or Path(command).is_absolute()


class EngineProcess(QObject):
    """One local engine process; reports readiness or failure through callbacks, never raises."""

    def __init__(self, parent: QObject | None = None, guard: Guard = unguarded) -> None:
        super().__init__(parent)
        self._guard = guard
        self._process: QProcess | None = None
        self._stopping: set[QProcess] = set()  # asked to stop, not yet exited
        self._detached_pid = 0
        self._log: Path | None = None
        self._stdout = b""
        self._stderr_tail: list[str] = []
        self._on_ready: Callable[[str], None] = lambda url: None
        self._on_failed: Callable[[str], None] = lambda message: None
        self._waiting = False
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.timeout.connect(self._timed_out)
        self._poll = QTimer(self)
        self._poll.setInterval(200)
        self._poll.timeout.connect(self._poll_log)

    @property
    def detached_pid(self) -> int:
        """The process id of a detached engine started here, 0 if none."""
        return self._detached_pid

    @property
    def stopping(self) -> bool:
        """True while an engine asked to stop has not exited yet."""
        return bool(self._stopping)

    @property
    def running(self) -> bool:
        """True while a process started here is alive (or detached and not stopped)."""
        if self._detached_pid:
            return True
        return (
            self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning
        )

    def start(
        self,
        argv: list[str],
        cwd: str,
        timeout_s: int,
        on_ready: Callable[[str], None],
        on_failed: Callable[[str], None],
        detached_log: Path | None = None,
    ) -> None:
        """Run `argv`; on_ready gets the engine URL, on_failed a message for the artist."""
        self.stop()
        guard = self._guard
        self._on_ready = lambda url: guard(lambda: on_ready(url))
        self._on_failed = lambda message: guard(lambda: on_failed(message))
        self._stdout, self._stderr_tail, self._waiting = b"", [], True
        if not argv or not Path(argv[0]).exists() and is_path(argv[0]):
            self._fail(f"the engine command {argv[0] if argv else '(empty)'} does not exist")
            return
        process = QProcess(self)
        process.setProgram(argv[0])
        process.setArguments(argv[1:])
        process.setWorkingDirectory(cwd)
        if detached_log is not None:
            # A detached engine outlives Krita, so it cannot write into a pipe Krita holds: its
            # output goes to a log file that we poll for the ready line.
            detached_log.parent.mkdir(parents=True, exist_ok=True)
            detached_log.write_bytes(b"")
            process.setStandardOutputFile(str(detached_log))
            process.setStandardErrorFile(str(detached_log))
            ok, pid = process.startDetached()
            if not ok:
                self._fail(f"could not start {argv[0]}")
                return
            self._detached_pid, self._log = int(pid or 0), detached_log
            self._poll.start()
        else:
            self._process = process
            process.readyReadStandardOutput.connect(self._read_stdout)
            process.readyReadStandardError.connect(self._read_stderr)
            process.errorOccurred.connect(self._error)
            process.finished.connect(self._finished)
            process.start()
        self._deadline.start(timeout_s * 1000)

    def stop(self) -> None:
        """Ask the engine to stop (SIGTERM) and return at once; kill it if it is not gone in 3 s."""
        self._waiting = False
        self._deadline.stop()
        self._poll.stop()
        if self._detached_pid:
            try:
                os.kill(self._detached_pid, signal.SIGTERM)
            except OSError:
                pass  # already gone
            self._detached_pid = 0
        process, self._process = self._process, None
        if process is None:
            return
        for connected in (process.finished, process.errorOccurred):
            connected.disconnect()
        if process.state() == QProcess.ProcessState.NotRunning:
            process.deleteLater()
            return
        # Never waitForFinished here: this runs on Krita's main thread, which must not freeze
        # while the engine cancels its job. The grace period runs on a timer instead.
        self._stopping.add(process)
        process.finished.connect(lambda *_: self._forget(process))
        process.terminate()
        QTimer.singleShot(KILL_AFTER_MS, lambda: self._kill(process))

    def _kill(self, process: QProcess) -> None:
        if process in self._stopping:
            process.kill()

    def _forget(self, process: QProcess) -> None:
        self._stopping.discard(process)
        try:
            process.deleteLater()
        except RuntimeError:
            pass  # Qt already deleted it with its parent (Krita quitting): nothing left to do

    def detach(self) -> None:
        """Forget the process without stopping it (for a detached engine kept after Krita)."""
        self._detached_pid = 0
        self._poll.stop()
        self._deadline.stop()

    def _read_stdout(self) -> None:
        if self._process is None:
            return
        self._stdout += bytes(self._process.readAllStandardOutput())
        self._scan(self._stdout)
        self._stdout = self._stdout[-4096:]  # the ready line is short; keep memory bounded

    def _read_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError()).decode("utf-8", "replace")
        self._stderr_tail = (self._stderr_tail + text.splitlines())[-20:]

    def _poll_log(self) -> None:
        if self._log is None:
            return
        try:
            data = self._log.read_bytes()
        except OSError:
            return
        self._stderr_tail = data.decode("utf-8", "replace").splitlines()[-20:]
        self._scan(data)

    def _scan(self, data: bytes) -> None:
        if not self._waiting:
            return
        for line in data.decode("utf-8", "replace").splitlines():
            url = parse_ready_line(line)
            if url:
                self._waiting = False
                self._deadline.stop()
                self._poll.stop()
                self._on_ready(url)
                return

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:
            self._fail(f"could not start {self._process.program()}: {self._process.errorString()}")

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stderr()
        last = next((line for line in reversed(self._stderr_tail) if line.strip()), "")
        message = f"the engine exited (code {code})" + (f": {last.strip()}" if last else "")
        self._process = None
        if self._waiting:
            self._fail(message)
        else:
            self._on_failed(message)

    def _timed_out(self) -> None:
        if self._waiting:
            self.stop()
            self._fail("the engine did not report ENGINE_READY in time")

    def _fail(self, message: str) -> None:
        self._waiting = False
        self._deadline.stop()
        self._poll.stop()
        self._on_failed(message)
