"""`python -m engine serve` as a real process: ready line, token, SIGTERM, SIGKILL and restart."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.server.client import Client
from tests.server.conftest import sketch

REPO = Path(__file__).resolve().parents[2]
READY = re.compile(r"^ENGINE_READY http://127\.0\.0\.1:(\d+)$")
START_TIMEOUT = 240.0  # seconds for TensorFlow and the model to load on a busy machine


@pytest.fixture
def model_dir(tiny_model_dir) -> Path:
    """The model folder to serve: the tiny real test model (fast to load)."""
    return tiny_model_dir


def _env(tmp_path: Path) -> dict[str, str]:
    # Private config and data folders: the test must never touch the user's own token.
    return {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "engine", "serve", *args]
    stderr = open(tmp_path / "stderr.txt", "ab")  # noqa: SIM115 (closed by the caller's Popen)
    try:
        return subprocess.Popen(
            command, cwd=REPO, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    finally:
        stderr.close()


def _ready_port(process: subprocess.Popen, tmp_path: Path) -> int:
    """Wait for the single ready line and return its port."""
    deadline = time.monotonic() + START_TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=1.0):
                line = process.stdout.readline()
                match = READY.match(line.rstrip("\n"))
                errors = (tmp_path / "stderr.txt").read_text(errors="replace")[-2000:]
                assert match, f"unexpected line {line!r}; stderr: {errors}"
                return int(match.group(1))
            if process.poll() is not None:
                errors = (tmp_path / "stderr.txt").read_text(errors="replace")[-2000:]
                pytest.fail(f"serve exited with {process.returncode}: {errors}")
    pytest.fail("no ENGINE_READY line")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(30)
    process.stdout.close()


def test_print_token_shows_the_token_file(tmp_path):
    token_file = tmp_path / "secrets" / "token"
    result = subprocess.run(
        [sys.executable, "-m", "engine", "serve", "--print-token", "--token-file", str(token_file)],
        cwd=REPO,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{token_file}\n"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"


def test_remote_host_needs_an_explicit_flag(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "engine", "serve", "--host", "0.0.0.0"],
        cwd=REPO,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
    assert result.stdout == ""


def test_serve_ready_line_sigkill_restart_and_sigterm(tmp_path, model_dir):
    token_file = tmp_path / "token"
    options = ("--token-file", str(token_file), "--model", str(model_dir))
    first = _serve(tmp_path, "--port", "0", *options)
    try:
        port = _ready_port(first, tmp_path)
        client = Client(f"http://127.0.0.1:{port}", token_file.read_text().strip())
        health = client.request("GET", "/v1/health")
        assert health.status == 200 and health.json()["model"]["selected"] == model_dir.name
        job_id = client.submit(sketch(1, 16, 16), count=1, steps=2)
        assert client.wait(job_id)["state"] == "done"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        _stop(first)
    # Same port and token file again: no stale lock, socket or token in the way.
    second = _serve(tmp_path, "--port", str(port), *options)
    try:
        assert _ready_port(second, tmp_path) == port
        assert client.request("GET", "/v1/health").status == 200
        # A long job in flight must not delay a clean exit beyond one step.
        client.submit(sketch(2, 16, 16), count=16, steps=64)
        client.submit(sketch(3, 16, 16), count=16, steps=64)
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
        assert second.stdout.read() == ""  # exactly one line was printed
    finally:
        _stop(second)
