"""A real server on an ephemeral loopback port in this process, with a client holding its token."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Any

from engine.server.app import EngineServer, ServerConfig
from engine.server.client import Client
from tests.fakes.fake_engine import FakeEngine


@dataclass
class Served:
    """A running server and a client holding its token."""

    server: EngineServer
    client: Client
    engine: Any

    @property
    def url(self) -> str:
        """Base URL."""
        return self.server.url


def job_limits(**limits: Any) -> ServerConfig:
    """The default config with these generation queue limits (engine.server.work.QueueLimits)."""
    defaults = ServerConfig()
    return dataclasses.replace(defaults, jobs=dataclasses.replace(defaults.jobs, **limits))


def make_server(engine: Any = None, **options: Any) -> Served:
    """Start a server on 127.0.0.1:0 in this process; the caller closes it."""
    engine = engine if engine is not None else FakeEngine()
    token = secrets.token_urlsafe(16)
    server = EngineServer(engine, token=token, **options)
    server.start()
    return Served(server, Client(server.url, token, timeout=30), engine)
