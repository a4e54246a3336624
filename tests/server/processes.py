"""Engine servers as child processes: start, wait for the ready line, stop."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.server.client import Client
from engine.server.ready import parse_ready_line
from tests.fakes import FAKE_SERVE

REPO = Path(__file__).resolve().parents[2]


def private_env(tmp_path: Path) -> dict[str, str]:
    """The environment with private config and data folders: never the user's own token."""
    return {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def spawn(command: list[str], tmp_path: Path) -> subprocess.Popen:
    """Start `command` in the repository with stdout piped and stderr in tmp_path/stderr.txt."""
    stderr = open(tmp_path / "stderr.txt", "ab")  # noqa: SIM115 (the child holds it from here)
    try:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=private_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    finally:
        stderr.close()


def first_line(process: subprocess.Popen, tmp_path: Path, timeout: float) -> str:
    """The first line the process prints; fails the test if it exits or stays silent first."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=1.0):
                return process.stdout.readline()
            if process.poll() is not None:
                pytest.fail(f"exited with {process.returncode}: {stderr_tail(tmp_path)}")
    pytest.fail(f"no line on stdout within {timeout} s: {stderr_tail(tmp_path)}")


def stderr_tail(tmp_path: Path) -> str:
    """The end of what the process wrote to stderr."""
    return (tmp_path / "stderr.txt").read_text(errors="replace")[-2000:]


def stop(process: subprocess.Popen) -> None:
    """Kill the process if it still runs and reap it."""
    if process.poll() is None:
        process.kill()
    process.wait(30)
    process.stdout.close()


@contextmanager
def fake_serve(tmp_path: Path, *options: str) -> Iterator[tuple[subprocess.Popen, Client]]:
    """The real server around the FakeEngine in its own process, and a client with its token."""
    token_file = tmp_path / "token"
    command = [sys.executable, str(FAKE_SERVE), "--token-file", str(token_file), *options]
    process = spawn(command, tmp_path)
    try:
        url = parse_ready_line(first_line(process, tmp_path, timeout=60))
        assert url is not None, stderr_tail(tmp_path)
        yield process, Client(url, token_file.read_text().strip(), timeout=30)
    finally:
        stop(process)
