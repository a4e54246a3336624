"""The engine server: the API app behind its guard, on uvicorn (h11) on a thread of its own."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from typing import Any

import uvicorn

from engine.errors import EngineError
from engine.models_store import ModelStore
from engine.server.config import ServerConfig
from engine.server.connections import accept_backlog, capped_protocol, connection_cap
from engine.server.events import ChangeSignal
from engine.server.guard import RequestGuard, allowed_host_headers, is_loopback
from engine.server.jobs import GenerateEngine, JobQueue
from engine.server.routes import create_app
from engine.server.service import EngineService, ListModels, LoadEngine
from engine.server.trainings import TrainRunner, train_here
from engine.server.work import WorkQueue

__all__ = ["EngineServer", "ServerConfig", "bind_listener", "is_loopback"]


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
        config: ServerConfig | None = None,
        listener: socket.socket | None = None,
        model_name: str = "default",
        load_engine: LoadEngine | None = None,
        list_models: ListModels | None = None,
        store: ModelStore | None = None,
        train: TrainRunner = train_here,
    ) -> None:
        """config: addresses and limits (default ServerConfig()). listener: a socket from
        bind_listener() (then config's host and port are its own). store: the model folders;
        with one, the server trains new models (/v1/trainings) and deletes them. train: what
        runs a training's stages (default: in this process, between jobs).
        """
        if not token:
            raise EngineError("the server needs a token")
        self.config = config = config or ServerConfig()
        self.service = EngineService(
            engine,
            config=config,
            model_name=model_name,
            load_engine=load_engine,
            list_models=list_models,
            store=store,
            train=train,
        )
        self._listener = listener or bind_listener(config.host, config.port)
        self.host = str(self._listener.getsockname()[0]) if listener else config.host
        self.port = int(self._listener.getsockname()[1])
        self.max_connections = connection_cap(config.max_connections)
        self._changes = ChangeSignal()
        for queue in self._queues():
            queue.add_listener(self._changes.notify)
        app = RequestGuard(
            create_app(self.service, self._changes),
            token=token,
            allowed_hosts=allowed_host_headers(self.host, self.port, config.allowed_hosts),
            max_body=config.max_body,
        )
        self._uvicorn = uvicorn.Server(self._uvicorn_config(app))
        self._thread: threading.Thread | None = None

    def _uvicorn_config(self, app: RequestGuard) -> uvicorn.Config:
        config = self.config
        return uvicorn.Config(
            app,
            http=capped_protocol(self.max_connections, config.header_timeout),
            backlog=accept_backlog(self.max_connections),
            ws="none",
            lifespan="off",
            loop="asyncio",
            log_config=None,  # the `serve` command configures logging
            access_log=config.log_requests,
            server_header=False,
            proxy_headers=False,  # no proxy in front: X-Forwarded-For is whatever a client says
            timeout_keep_alive=int(config.keep_alive_timeout),
            timeout_graceful_shutdown=int(config.shutdown_grace),
            h11_max_incomplete_event_size=config.max_header_bytes,
        )

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
        deadline = time.monotonic() + self.config.start_timeout
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise EngineError("the HTTP server did not start")
            time.sleep(0.01)

    def close(self) -> None:
        """End every job and training (each event stream gets its final state), stop serving."""
        if self.service.trainings is not None:
            # A running training checkpoints where it stopped, which may take a while.
            self.service.trainings.close(self.config.trainings_close_timeout)
        self.jobs.close(self.config.jobs_close_timeout)
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
