"""`python -m engine serve`: arguments, model loading, the ready line and a clean shutdown."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from engine.errors import EngineError
from engine.models_store import ModelStore
from engine.paths import default_token_file
from engine.server.app import EngineServer, ServerConfig, bind_listener, is_loopback
from engine.server.auth import load_or_create_token
from engine.server.ready import ready_line
from engine.server.trainings import TrainRunner, train_here


@dataclass
class Backend:
    """What a server's jobs and trainings run on."""

    store: ModelStore  # the model folders
    engine: Any  # the selected model's engine (engine.server.jobs.GenerateEngine)
    model_name: str  # its name
    load_engine: Any  # the loader of a model's engine by name
    config: dict[str, Any] = field(default_factory=dict)  # ServerConfig fields to set
    train: TrainRunner = train_here  # what runs a training's stages


# What a server's jobs run on, from the command's arguments; EngineError if unusable.
Setup = Callable[[argparse.Namespace], Backend]

HELP = "serve variants over HTTP to the Krita plugin"
DESCRIPTION = "Hold the model and answer jobs on a local socket."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `serve` options to an argument parser."""
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; others need --allow-remote)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port; 0 picks a free one (default 0)"
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="DIR",
        help="weights folder or model name (default: the shipped weights)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"bearer token file, created if missing (default {default_token_file()})",
    )
    parser.add_argument(
        "--print-token",
        action="store_true",
        help="print the bearer token (created if missing) and exit; give it to remote clients",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other people can reach (the token still applies)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name clients may use in the Host header (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")


def run(args: argparse.Namespace, setup: Setup | None = None) -> int:
    """Load the model and serve until SIGTERM/SIGINT, then exit at once; the status of a failure.

    setup: what the jobs run on; the default loads the model in this process (a studio's
    gateway passes its cluster's, engine.studio.command).
    """
    token_file = args.token_file or default_token_file()
    try:
        token = load_or_create_token(token_file)
    except EngineError as error:
        return _fail(str(error))
    if args.print_token:
        print(token, flush=True)
        return 0
    if not is_loopback(args.host) and not args.allow_remote:
        return _fail(f"--host {args.host} is reachable from other machines: add --allow-remote")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="engine: %(message)s",
        stream=sys.stderr,
    )
    # The port first: a busy port fails at once, not after the model has loaded.
    try:
        listener = bind_listener(args.host, args.port)
    except OSError as error:
        return _fail(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    try:
        backend = (setup or local_setup)(args)
    except EngineError as error:
        listener.close()
        return _fail(str(error))
    try:
        config = ServerConfig(
            host=args.host,
            port=args.port,
            allowed_hosts=tuple(args.allowed_host),
            log_requests=args.verbose,
            **backend.config,
        )
        server = EngineServer(
            backend.engine,
            token=token,
            config=config,
            listener=listener,
            model_name=backend.model_name,
            load_engine=backend.load_engine,
            store=backend.store,
            train=backend.train,
        )
    except EngineError as error:
        listener.close()
        return _fail(str(error))
    serve_until_stopped(server)
    leave_now()


def leave_now() -> NoReturn:
    """Exit with status 0 now, once the server is closed, without Python's own teardown.

    Everything worth keeping is on disk by then (checkpoints are atomic, a training's state is
    written as it changes); tearing TensorFlow down takes seconds, more with a training thread
    still in a step, and SIGTERM must end the server within 5 s.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def serve_until_stopped(server: EngineServer) -> None:
    """Start `server`, print the ready line, and close it on SIGTERM or SIGINT."""
    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        server.start()
        print(ready_line(server.url), flush=True)
        # A timed wait lets the signal handler run promptly on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
        for number, handler in previous.items():
            signal.signal(number, handler)


def local_setup(args: argparse.Namespace) -> Backend:
    """The single-process engine: the model loaded here, from the user's model folders."""
    store = ModelStore.for_user()
    return Backend(store, *_load(args.model, store))


def _load(model: str | None, store: ModelStore) -> tuple[Any, str, Any]:
    """The engine for a --model value, its name, and the loader of a model by name."""
    # TensorFlow loads only here, so `python -m engine --help` stays fast.
    from engine.pipeline import Engine

    def load_engine(name: str) -> Any:
        return Engine.load(store.resolve(name))

    model_dir, model_name = _model_location(model, store.resolve)
    return Engine.load(model_dir), model_name, load_engine


def _model_location(model: str | None, resolve_model: Any) -> tuple[Path | None, str]:
    """The weights folder to load and the name to show for a --model value."""
    if model is None:
        return None, "default"
    path = Path(model)
    if path.is_dir():
        return path, path.name
    return resolve_model(model), model


def _fail(message: str) -> int:
    print(f"engine serve: {message}", file=sys.stderr, flush=True)
    return 2
