"""The engine server's settings in one typed place: addresses, limits, timeouts and queue lengths.

Every bound the README states for the server is a field here (a test reads them against it).
The `serve` command fills the addresses from its arguments; the rest are the defaults unless a
caller (a test, a studio's gateway) gives its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.server.work import QueueLimits

MB = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """How the engine server listens, what it accepts, and how much it holds."""

    host: str = "127.0.0.1"  # address to listen on; others need `serve --allow-remote`
    port: int = 0  # TCP port; 0 picks a free one
    allowed_hosts: tuple[str, ...] = ()  # more names clients may put in the Host header
    log_requests: bool = False  # log every request to stderr (`serve --verbose`)

    # A request body at most (413 beyond): an 8192 px RGBA PNG sketch fits with room to spare.
    max_body: int = 32 * MB
    # Open connections at most, or half the process's file descriptors if that is fewer
    # (engine.server.connections.connection_cap); a new one beyond closes the one idle longest.
    max_connections: int = 256
    header_timeout: float = 10.0  # seconds a connection may stay open without a request in progress
    keep_alive_timeout: float = (
        5.0  # seconds an idle keep-alive connection waits for its next request
    )
    max_header_bytes: int = 16 * 1024  # a request head larger than this is refused (h11)
    shutdown_grace: float = 5.0  # seconds open answers and event streams get to finish on close
    start_timeout: float = 30.0  # seconds the server thread gets to start serving

    # Generation jobs. Waiting sketches stay PNG-compressed (decoded only when their job runs)
    # and may hold waiting_bytes together; a sketch's PNG is at most 24 MB (max_body, base64
    # decoded). Finished jobs' results (base64 PNG) are kept up to kept_bytes: an 8192 px variant
    # of a small sketch is ~1.5 MB. workers > 1 runs jobs at once (an engine that can: a studio's).
    jobs: QueueLimits = field(
        default_factory=lambda: QueueLimits(
            waiting=64, waiting_bytes=256 * MB, history=64, kept_bytes=256 * MB, workers=1
        )
    )
    jobs_close_timeout: float = 10.0  # seconds the running job gets to stop on close
    # Models named by jobs kept loaded besides the selected one (each studio artist has theirs).
    named_engines: int = 2

    # Trainings: waiting behind the running one, and finished ones remembered (a forgotten
    # cancelled training's checkpoint is deleted with it).
    trainings: QueueLimits = field(default_factory=lambda: QueueLimits(waiting=4, history=16))
    # Seconds the running training gets to finish its step, write its checkpoint and stop on
    # close (a step of the shipped model takes ~0.75 s, a checkpoint ~0.5 s); past it the server
    # exits anyway, so SIGTERM ends it within 5 s whatever the training does (loading large
    # drawings, a step on a busy CPU), and the last whole checkpoint (they are atomic) stays.
    trainings_close_timeout: float = 3.5
    # Drawings a training takes: fewer teach nothing, more is more than a laptop trains on.
    drawings: tuple[int, int] = (8, 2000)
    training_steps: tuple[int, int] = (1, 20000)  # steps of each stage a training may ask for
    preview_seconds: float = 30.0  # a training's preview at most this often (each costs ~1 s)
