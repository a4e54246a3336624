"""`python -m engine studio` refuses what it cannot serve in one line, before touching a cluster."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.server.processes import REPO, private_env


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # free again once closed: nothing listens there


def _studio(tmp_path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "engine", "studio", "--token-file", str(tmp_path / "t")]
    return subprocess.run(
        [*command, *options],
        cwd=REPO,
        env=private_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--ray", "127.0.0.1:{port}"], "no Ray cluster answers at 127.0.0.1:{port}"),
        (["--ray", "gpu-box"], "--ray 'gpu-box' is not host:port"),
        (["--ray", "127.0.0.1:{port}", "--model", "carol"], "unknown model 'carol'"),
        (["--ray", "127.0.0.1:{port}", "--replicas", "0"], "--replicas must be at least 1"),
    ],
)
def test_what_cannot_be_served_is_one_line_and_exit_2(tmp_path, options, message):
    port = _closed_port()
    done = _studio(tmp_path, *(option.format(port=port) for option in options))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message.format(port=port) in lines[0], done.stderr
