"""The engine connection: finds the engine, checks it is one, starts a local one when allowed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import settings as settings_module
from .client import AUTH, PROTOCOL, REFUSED, UNREACHABLE, EngineClient, Failure
from .engine_process import EngineProcess, is_path
from .settings import Settings
from .values import EngineState

# What GET /v1/health's "service" says of a Sketch Variants engine: a program that merely answers
# JSON there (say, on a stale address's port) is never sent a job.
SERVICE = "sketch-variants"
STARTING_MESSAGE = "Starting the engine..."

# (new state, reason shown next to it, message for the artist or None to keep the current one)
OnChange = Callable[[EngineState, str, "str | None"], None]


def is_sketch_variants(health: dict[str, Any]) -> bool:
    """True when a health answer names this project's engine and a version."""
    version = health.get("version")
    return health.get("service") == SERVICE and isinstance(version, str) and bool(version)


class EngineConnection:
    """Owns the client's address and token and the local engine process; reports a typed state."""

    def __init__(
        self,
        client: EngineClient,
        process: EngineProcess,
        settings: Callable[[], Settings],
        remember_url: Callable[[str], None],
        on_change: OnChange,
    ) -> None:
        self.client = client
        self.process = process
        self.state = EngineState.NOT_CONNECTED
        self._settings = settings
        self._remember_url = remember_url
        self._on_change = on_change
        self._connecting = False

    @property
    def ready(self) -> bool:
        """True when jobs can be sent: a verified engine answers at the client's address."""
        return self.state is EngineState.CONNECTED and bool(self.client.url)

    def connect(self, start: bool) -> None:
        """Find and verify the engine; with `start`, run a local one if none answers."""
        if self.ready or self._connecting:
            return
        settings = self._settings()
        url = settings.server_url or settings.last_engine_url
        if not url:
            self._failed(Failure(UNREACHABLE, "no engine started yet"), start)
            return
        token = settings_module.token_for(settings, url)
        if token is None:
            self._set(
                EngineState.UNREACHABLE,
                "no token for a remote engine",
                f"The engine at {url} needs its own token (the local engine's token is never "
                "sent to another machine): enter it in the docker's Settings…",
            )
            return
        self._verify(url, token, lambda failure: self._failed(failure, start))

    def reset(self) -> None:
        """Forget the engine (the settings changed); the next job connects again."""
        self._set(EngineState.NOT_CONNECTED, "", None)

    def lost(self, failure: Failure) -> None:
        """A request found the engine gone or refusing the token."""
        self._unreachable(failure)

    def shutdown(self) -> None:
        """Krita is quitting: stop the local engine unless the settings keep it running."""
        if self._settings().keep_engine_running:
            self.process.detach()
        else:
            self.process.stop()

    # ----- steps -----

    def _verify(self, url: str, token: str, on_failed: Callable[[Failure], None]) -> None:
        """Connect once GET /v1/health, with the token, shows a Sketch Variants engine answers."""
        self._connecting = True
        self.client.configure(url, token)

        def answered(health: dict[str, Any]) -> None:
            if is_sketch_variants(health):
                self._connected(url)
            else:
                on_failed(Failure(PROTOCOL, f"not a Sketch Variants engine at {url}"))

        def refused(failure: Failure) -> None:
            # An error page from another program there is no engine of ours either.
            if failure.kind is REFUSED:
                failure = Failure(PROTOCOL, f"not a Sketch Variants engine ({failure.message})")
            on_failed(failure)

        self.client.health(answered, refused)

    def _failed(self, failure: Failure, start: bool) -> None:
        self._connecting = False
        settings = self._settings()
        remote = bool(settings.server_url) and not settings_module.is_loopback(settings.server_url)
        # Something else answering at the remembered address means our engine is gone too.
        stale = failure.kind is PROTOCOL and not settings.server_url
        if start and not remote and (failure.kind is UNREACHABLE or stale):
            self._start_process()
            return
        self._unreachable(failure)

    def _start_process(self) -> None:
        settings = self._settings()
        argv, cwd = settings_module.engine_command(settings)
        if not argv or (is_path(argv[0]) and not Path(argv[0]).exists()):
            # The usual first-run case: nothing installed yet, so say how to install it.
            self._unreachable(Failure(UNREACHABLE, f"no engine at {argv[0] if argv else '?'}"))
            return
        self._connecting = True
        self._set(EngineState.STARTING, "loading the model", STARTING_MESSAGE)
        self.process.start(
            argv,
            cwd,
            settings.start_timeout_s,
            self._process_ready,
            self._process_failed,
            detached_log=(
                settings_module.data_dir() / "engine.log" if settings.keep_engine_running else None
            ),
        )

    def _process_ready(self, url: str) -> None:
        self._remember_url(url)
        token = settings_module.read_token(self._settings())
        self._verify(url, token, self._unreachable)

    def _process_failed(self, message: str) -> None:
        self._connecting = False
        if self.state is EngineState.CONNECTED:
            advice = f"The engine stopped ({message}): click Start to run it again."
        else:
            advice = (
                f"Engine could not start ({message}): check the engine command in the "
                "settings, or run `make install`."
            )
        self._set(EngineState.UNREACHABLE, message, advice)

    def _connected(self, url: str) -> None:
        self._connecting = False
        self._set(EngineState.CONNECTED, url, None)

    def _unreachable(self, failure: Failure) -> None:
        self._connecting = False
        server_url = self._settings().server_url
        if failure.kind is AUTH:
            message = (
                f"The engine refused the access token ({failure.message}): set the engine's token "
                "in the settings, or click Start to use a local engine."
            )
        elif failure.kind is PROTOCOL and server_url:
            # The artist's own address; a stale remembered one only needs Start (below).
            message = (
                f"The program at {self.client.url} is not a Sketch Variants engine: check the "
                "engine address in the settings, or clear it and click Start for a local engine."
            )
        elif server_url and not settings_module.is_loopback(server_url):
            message = (
                f"Engine at {server_url} not reachable ({failure.message}): check "
                "the address in the settings and that the engine runs there."
            )
        else:
            message = f"Engine not running: click Start, or run `make install` ({failure.message})."
        self._set(EngineState.UNREACHABLE, failure.message, message)

    def _set(self, state: EngineState, reason: str, message: str | None) -> None:
        self.state = state
        self._on_change(state, reason, message)
