"""`python -m engine serve` as a real process: ready line, token, SIGTERM, SIGKILL and restart."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.server.client import Client
from engine.server.ready import READY_PREFIX
from tests.fakes.fake_engine import sketch
from tests.server.processes import REPO, first_line, private_env, spawn, stderr_tail, stop

READY = re.compile("^" + re.escape(READY_PREFIX) + r"http://127\.0\.0\.1:(\d+)$")
START_TIMEOUT = 240.0  # seconds for TensorFlow and the model to load on a busy machine


@pytest.fixture
def model_dir(tiny_model_dir) -> Path:
    """The model folder to serve: the tiny real test model (fast to load)."""
    return tiny_model_dir


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen:
    return spawn([sys.executable, "-m", "engine", "serve", *args], tmp_path)


def _ready_port(process: subprocess.Popen, tmp_path: Path) -> int:
    """Wait for the single ready line and return its port."""
    line = first_line(process, tmp_path, START_TIMEOUT)
    match = READY.match(line.rstrip("\n"))
    errors = stderr_tail(tmp_path)
    assert match, f"unexpected line {line!r}; stderr: {errors}"
    return int(match.group(1))


def test_print_token_prints_the_token_and_nothing_else(tmp_path):
    token_file = tmp_path / "secrets" / "token"
    result = _run_serve(tmp_path, "--print-token", "--token-file", str(token_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout == token_file.read_text()  # the token and its newline, nothing more
    assert len(result.stdout.strip()) >= 43
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    again = _run_serve(tmp_path, "--print-token", "--token-file", str(token_file))
    assert again.stdout == result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_serve_refuses_a_token_file_others_can_read(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("x" * 43 + "\n")
    token_file.chmod(0o644)
    result = _run_serve(tmp_path, "--token-file", str(token_file))
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert f"chmod 600 {token_file}" in line


def test_a_busy_port_fails_before_the_model_loads(tmp_path):
    # The model folder does not exist either: the error names the port, so the bind came first.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        missing_model = tmp_path / "no-such-model"
        result = _run_serve(
            tmp_path,
            "--port",
            str(port),
            "--model",
            str(missing_model),
            "--token-file",
            str(tmp_path / "token"),
        )
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert f"cannot listen on 127.0.0.1:{port}" in line


def _run_serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine", "serve", *args],
        cwd=REPO,
        env=private_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_remote_host_needs_an_explicit_flag(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "engine", "serve", "--host", "0.0.0.0"],
        cwd=REPO,
        env=private_env(tmp_path),
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
        stop(first)
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
        stop(second)


def test_the_server_knows_nothing_of_tensorflow(tmp_path):
    # Only `serve` loads the model (and TensorFlow); the server takes any engine.
    code = (
        "import sys\n"
        "import engine.server.app, engine.server.command, engine.server.client\n"
        "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.stdout == "[]\n", result.stderr
