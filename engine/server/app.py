"""The engine server: the API app behind its guard, on uvicorn (h11) on a thread of its own."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import uvicorn

from engine.errors import EngineError
from engine.models_store import ModelStore
from engine.server.connections import (
    HEADER_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    MAX_HEADER_BYTES,
    accept_backlog,
    capped_protocol,
    connection_cap,
)
from engine.server.events import ChangeSignal
from engine.server.guard import RequestGuard, allowed_host_headers, is_loopback
from engine.server.jobs import GenerateEngine, JobQueue
from engine.server.routes import create_app
from engine.server.service import EngineService, ListModels, LoadEngine
from engine.server.work import QueueLimits, WorkQueue

__all__ = ["MAX_BODY", "EngineServer", "bind_listener", "is_loopback"]

MAX_BODY = 32 * 1024 * 1024  # bytes; a 8192 px RGBA PNG sketch fits with room to spare
SHUTDOWN_GRACE = 5.0  # seconds open answers and event streams get to finish on close()
START_TIMEOUT = 30.0  # seconds for the server thread to start serving
DEFAULT_HISTORY = 64  # finished jobs kept with their results; older ones are forgotten
DEFAULT_MAX_QUEUED = 64  # waiting jobs accepted
# Waiting sketches are kept as their PNG bytes (decoded only when their job runs); together they
# may hold this much. A sketch PNG is at most 24 MB (the 32 MB body limit, base64 decoded).
DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024
# Finished jobs' results (base64 PNG text) kept at most; the oldest are forgotten first. An
# 8192 px variant of a small sketch is ~1.5 MB, so 16 of them take ~24 MB.
DEFAULT_MAX_RESULT_BYTES = 256 * 1024 * 1024
# Trainings waiting behind the running one, and finished ones remembered.
TRAINING_LIMITS = QueueLimits(waiting=4, history=16)


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port and listening; OSError if the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # on Windows the option would let another process share the port
            # A restart must not wait for the last run's connections to leave TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


class EngineServer:
    """The engine's HTTP server and job queue: bind at construction, start(), close()."""

    def __init__(
        self,
        engine: GenerateEngine,
        *,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        listener: socket.socket | None = None,
        model_name: str = "default",
        load_engine: LoadEngine | None = None,
        list_models: ListModels | None = None,
        store: ModelStore | None = None,
        allowed_hosts: Iterable[str] = (),
        max_body: int = MAX_BODY,
        history: int = DEFAULT_HISTORY,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
        max_connections: int | None = None,
        header_timeout: float = HEADER_TIMEOUT,
        log_requests: bool = False,
        job_workers: int = 1,
    ) -> None:
        """listener: a socket from bind_listener() (then host and port are its own).

        job_workers: jobs run at once (a studio's gateway runs several, its replicas batch them).

        max_connections: open connections at most (default: connection_cap()); header_timeout:
        seconds a connection may stay without a request in progress. store: the model folders;
        with one, the server trains new models (/v1/trainings) and deletes them.
        """
        if not token:
            raise EngineError("the server needs a token")
        self.service = EngineService(
            engine,
            model_name=model_name,
            load_engine=load_engine,
            list_models=list_models,
            store=store,
            job_limits=QueueLimits(
                max_queued, max_queued_bytes, history, DEFAULT_MAX_RESULT_BYTES, job_workers
            ),
            training_limits=TRAINING_LIMITS,
        )
        self._listener = listener if listener is not None else bind_listener(host, port)
        self.host = host if listener is None else str(listener.getsockname()[0])
        self.port = int(self._listener.getsockname()[1])
        self.max_connections = max_connections or connection_cap()
        self._changes = ChangeSignal()
        for queue in self._queues():
            queue.add_listener(self._changes.notify)
        app = RequestGuard(
            create_app(self.service, self._changes),
            token=token,
            allowed_hosts=allowed_host_headers(self.host, self.port, allowed_hosts),
            max_body=max_body,
        )
        config = uvicorn.Config(
            app,
            http=capped_protocol(self.max_connections, header_timeout),
            backlog=accept_backlog(self.max_connections),
            ws="none",
            lifespan="off",
            loop="asyncio",
            log_config=None,  # the `serve` command configures logging
            access_log=log_requests,
            server_header=False,
            proxy_headers=False,  # no proxy in front: X-Forwarded-For is whatever a client says
            timeout_keep_alive=int(KEEP_ALIVE_TIMEOUT),
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def jobs(self) -> JobQueue:
        """The job queue."""
        return self.service.jobs

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. http://127.0.0.1:8731."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Start the job and training workers and serve requests on a background thread."""
        for queue in self._queues():
            queue.start()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), name="engine-http"
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise EngineError("the HTTP server did not start")
            time.sleep(0.01)

    def close(self) -> None:
        """End every job and training (each event stream gets its final state), stop serving."""
        if self.service.trainings is not None:
            # A running training checkpoints where it stopped, which may take a while.
            self.service.trainings.close(timeout=30.0)
        self.jobs.close()
        if self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join()
            self._thread = None
        self._listener.close()

    def __enter__(self) -> EngineServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _queues(self) -> list[WorkQueue[Any]]:
        trainings = self.service.trainings
        return [self.jobs] if trainings is None else [self.jobs, trainings]

    async def _serve(self) -> None:
        self._changes.attach(asyncio.get_running_loop())
        await self._uvicorn.serve(sockets=[self._listener])
