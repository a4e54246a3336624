"""Fixtures: started servers on loopback (closed after each test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.fake_engine import FakeEngine
from tests.server.serving import Served, make_server


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """Factory of started servers, all closed at the end of the test."""
    started: list[Served] = []

    def start(engine: Any = None, **options: Any) -> Served:
        served = make_server(engine, **options)
        started.append(served)
        return served

    yield start
    for served in started:
        if isinstance(served.engine, FakeEngine):
            served.engine.release.set()  # a held job must not stall the shutdown
        served.server.close()


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    """One started server with a fast fake engine."""
    return serve()
