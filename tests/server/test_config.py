"""The server's limits as the README states them are the ones ServerConfig gives the server."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from engine.server.config import MB, ServerConfig

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _stated(pattern: str) -> tuple[int, ...]:
    """The numbers a README sentence gives (line breaks and spaces as any whitespace)."""
    match = re.search(pattern.replace(" ", r"\s+"), README)
    assert match is not None, f"the README no longer says: {pattern}"
    return tuple(int(number) for number in match.groups())


def test_the_readme_states_the_servers_limits():
    config = ServerConfig()
    assert _stated(r"holds at most (\d+) connections") == (config.max_connections,)
    assert _stated(r"without a whole request after (\d+) s is closed") == (config.header_timeout,)
    waiting = _stated(r"at most (\d+) jobs and (\d+) MB in all \(429 beyond\)")
    assert waiting == (config.jobs.waiting, config.jobs.waiting_bytes // MB)
    kept = _stated(r"finished results are kept up to (\d+) jobs and (\d+) MB of base64 PNG")
    assert kept == (config.jobs.history, config.jobs.kept_bytes // MB)
    assert _stated(r"and (\d+) MB per request body") == (config.max_body // MB,)
    assert _stated(r"\[base64 PNG, (\d+) to (\d+)\]") == config.drawings
    trainings = _stated(r"At most (\d+) trainings wait .* the last (\d+) finished ones")
    assert trainings == (config.trainings.waiting, config.trainings.history)
    assert config.jobs.workers == 1  # "queues jobs first-in first-out", one at a time


def test_the_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ServerConfig().max_body = 1  # type: ignore[misc]
