"""FIFO job queue: one worker thread runs generate requests on the engine, one at a time."""

from __future__ import annotations

import base64
import collections
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.errors import Cancelled, EngineError
from engine.images import encode_png
from engine.request import GenerateRequest, GenerateResult
from engine.server.payload import decode_sketch_png

log = logging.getLogger("engine.server")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
FINISHED = frozenset({DONE, FAILED, CANCELLED})

DEFAULT_HISTORY = 64  # finished jobs kept with their results; older ones are forgotten
DEFAULT_MAX_QUEUED = 64  # waiting jobs accepted
# Waiting sketches are kept as their PNG bytes (decoded only when their job runs); together they
# may hold this much. A sketch PNG is at most 24 MB (the 32 MB body limit, base64 decoded).
DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024
# Finished jobs' results (base64 PNG text) kept at most; the oldest are forgotten first. An
# 8192 px variant of a small sketch is ~1.5 MB, so 16 of them take ~24 MB.
DEFAULT_MAX_RESULT_BYTES = 256 * 1024 * 1024
# The error of a live job a newer one from the same client replaced: only the newest sketch matters.
SUPERSEDED = "superseded by a newer live request"


class GenerateEngine(Protocol):
    """What the server needs from an engine: its description and one generate call."""

    @property
    def info(self) -> dict[str, Any]: ...

    def generate(
        self,
        request: GenerateRequest,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerateResult: ...


class QueueFull(Exception):
    """The queue holds its maximum number of waiting jobs."""


class QueueClosed(Exception):
    """The server is shutting down and takes no more jobs."""


@dataclass(eq=False)
class Job:
    """One sketch and its parameters, with its state, progress, events and (once done) result."""

    request: GenerateRequest = field(repr=False)
    # The sketch still PNG-encoded, decoded when the job runs; request.sketch is then a 1-pixel
    # stand-in. None: request.sketch is the sketch itself.
    png: bytes | None = field(default=None, repr=False)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = QUEUED
    step: int = 0
    total: int = 0  # denoising steps; the request's until the engine reports its own
    error: str | None = None  # one line, set when failed or cancelled
    cancel_requested: bool = False
    # A client's live-session key: a newer job with the same key supersedes this one.
    live: str | None = None
    model: str | None = None  # the model the request named; None: the selected one
    cancel_reason: str = "cancelled"  # the error once cancelled: "cancelled" or SUPERSEDED
    variants: list[dict[str, Any]] | None = field(default=None, repr=False)  # {"seed", "png"}
    # Every event since creation, so a late subscriber replays the whole story; at most
    # steps + 2 entries (progress per step, running, final state).
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)
    submitted: float = field(default_factory=time.perf_counter, repr=False)
    # Milliseconds per stage once done: queue (waiting), prepare (the model picked, the sketch
    # PNG decoded), engine (generate), encode (the variants' PNGs). The result's Server-Timing
    # header sends them, so a client can tell the engine's share of its latency from the rest.
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.total = self.request.steps

    @property
    def result_bytes(self) -> int:
        """Size of the kept result (base64 PNG text), 0 until done."""
        return sum(len(variant["png"]) for variant in self.variants or ())

    def status(self) -> dict[str, Any]:
        """The job's public state as JSON-ready values."""
        return {
            "id": self.id,
            "state": self.state,
            "step": self.step,
            "total": self.total,
            "error": self.error,
            "cancel_requested": self.cancel_requested,
        }


def one_line(message: object, limit: int = 300) -> str:
    """A message squeezed onto one line of bounded length, for error answers."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def encode_variants(result: GenerateResult) -> list[dict[str, Any]]:
    """Variants as JSON-ready dicts with base64 PNG images."""
    return [
        {"seed": int(variant.seed), "png": base64.b64encode(encode_png(variant.image)).decode()}
        for variant in result.variants
    ]


class JobQueue:
    """Jobs in FIFO order run by one worker thread; cancel, progress events, bounded history."""

    def __init__(
        self,
        engine: GenerateEngine,
        history: int = DEFAULT_HISTORY,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        engine_named: Callable[[str], GenerateEngine] | None = None,
    ) -> None:
        """engine_named(name): the engine of a model a job names (loaded or cached)."""
        self._engine = engine
        self._engine_named = engine_named
        self._history = history
        self._max_queued = max_queued
        self._max_queued_bytes = max_queued_bytes
        self._max_result_bytes = max_result_bytes
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        # One condition for every change: waiters re-check their own job, which is cheap.
        self._changed = threading.Condition(self._lock)
        # Held while a job runs on the engine, so a model switch waits for the running job.
        self._engine_lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: collections.deque[Job] = collections.deque()
        self._finished: collections.deque[str] = collections.deque()
        self._running: Job | None = None
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="engine-jobs", daemon=True)

    @property
    def engine(self) -> GenerateEngine:
        """The engine jobs run on now."""
        return self._engine

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed

    def start(self) -> None:
        """Start the worker thread."""
        self._worker.start()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (with the queue's lock held: it must not block) on every change."""
        with self._lock:
            self._listeners.append(listener)

    def submit(
        self,
        request: GenerateRequest,
        png: bytes | None = None,
        live: str | None = None,
        model: str | None = None,
    ) -> Job:
        """Queue a request; QueueFull or QueueClosed when it cannot be taken.

        png: the sketch as PNG bytes, decoded only when the job runs, so a waiting job holds its
        compressed size; request.sketch is then a stand-in that is replaced.
        live: a client's live-session key; the job supersedes that key's unfinished jobs.
        model: a model name to run the job on instead of the selected one.
        """
        job = Job(request, png, live=live, model=model)
        with self._lock:
            if self._closed:
                raise QueueClosed("the server is shutting down")
            if live is not None:
                self._supersede(live)
            if len(self._queue) >= self._max_queued:
                raise QueueFull(f"the queue is full ({self._max_queued} jobs waiting): retry later")
            waiting = sum(len(queued.png or b"") for queued in self._queue)
            if self._queue and waiting + len(png or b"") > self._max_queued_bytes:
                megabytes = waiting / 2**20
                raise QueueFull(f"the queue is full ({megabytes:.0f} MB of sketches): retry later")
            self._jobs[job.id] = job
            self._queue.append(job)
            self._notify()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None if unknown or forgotten."""
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """All known jobs, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def queued_count(self) -> int:
        """Number of jobs waiting (not counting the running one)."""
        with self._lock:
            return len(self._queue)

    def running(self) -> Job | None:
        """The job on the engine now, if any."""
        with self._lock:
            return self._running

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a job: a queued one at once, a running one at its next step; None if unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in FINISHED:
                return job
            job.cancel_requested = True
            if job.state == QUEUED:
                self._queue.remove(job)
                self._finish(job, CANCELLED, "cancelled")
            self._notify()
            return job

    def _supersede(self, live: str) -> None:
        """Drop the waiting jobs of a live key and stop its running one at its next step."""
        # Caller holds the lock. A live client wants only its newest sketch: older ones would
        # make the artist wait for results already out of date.
        for job in [queued for queued in self._queue if queued.live == live]:
            job.cancel_requested, job.cancel_reason = True, SUPERSEDED
            self._queue.remove(job)
            self._finish(job, CANCELLED, SUPERSEDED)
        running = self._running
        if running is not None and running.live == live and not running.cancel_requested:
            running.cancel_requested, running.cancel_reason = True, SUPERSEDED

    def events_since(self, job: Job, start: int) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """Events of `job` from index `start` and whether the job has ended."""
        with self._lock:
            return job.events[start:], job.state in FINISHED

    def switch_engine(self, load: Callable[[], GenerateEngine]) -> GenerateEngine:
        """Load a new engine once the running job ends and run later jobs on it."""
        with self._engine_lock:
            engine = load()
            self._engine = engine
            return engine

    def close(self, timeout: float | None = 10.0) -> None:
        """Cancel queued jobs, stop the running one at its next step and end the worker."""
        with self._lock:
            self._closed = True
            while self._queue:
                job = self._queue.popleft()
                job.cancel_requested = True
                self._finish(job, CANCELLED, "cancelled: the server is shutting down")
            if self._running is not None:
                self._running.cancel_requested = True
            self._notify()
        if self._worker.is_alive():
            self._worker.join(timeout)
        with self._lock:
            running = self._running
            if running is not None and running.state not in FINISHED:
                # The engine did not stop in time: end the job now, so every event stream
                # still gets its final state; the worker's late result is dropped.
                self._running = None
                self._finish(running, CANCELLED, "cancelled: the server is shutting down")

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
            # Take the engine before the job, so a model switch in between finishes first.
            with self._engine_lock:
                with self._lock:
                    if not self._queue:  # the job was cancelled while we waited
                        continue
                    job = self._queue.popleft()
                    job.state = RUNNING
                    self._running = job
                    self._emit(job, "state", job.status())
                self._run(job, self._engine)

    def _run(self, job: Job, engine: GenerateEngine) -> None:
        def on_progress(step: int, total: int) -> None:
            with self._lock:
                job.step, job.total = int(step), int(total)
                self._emit(job, "progress", {"step": job.step, "total": job.total})

        def should_cancel() -> bool:
            return job.cancel_requested or self._closed

        clock = [time.perf_counter()]
        timings = {"queue": (clock[0] - job.submitted) * 1000}

        def lap(stage: str) -> None:
            now = time.perf_counter()
            timings[stage], clock[0] = (now - clock[0]) * 1000, now

        try:
            if job.model is not None and self._engine_named is not None:
                engine = self._engine_named(job.model)
            request = job.request
            if job.png is not None:
                request = dataclasses.replace(request, sketch=decode_sketch_png(job.png))
            lap("prepare")
            result = engine.generate(request, on_progress, should_cancel)
            lap("engine")
            del request  # the decoded sketch is the largest thing a job holds: free it first
            variants = encode_variants(result)
            lap("encode")
        except Cancelled:
            state, error, variants = CANCELLED, job.cancel_reason, None
        except EngineError as exc:
            state, error, variants = FAILED, one_line(exc), None
        except Exception as exc:  # a bug must fail this job only, never the worker
            log.exception("job %s failed", job.id)
            error = one_line(f"internal error: {type(exc).__name__}: {exc}")
            state, variants = FAILED, None
        else:
            state, error = DONE, None
        with self._lock:
            if job.state in FINISHED:  # close() ended it while the engine ran on
                return
            job.variants, job.timings = variants, timings
            self._running = None
            self._finish(job, state, error)

    def _finish(self, job: Job, state: str, error: str | None) -> None:
        # Caller holds the lock.
        job.state, job.error = state, error
        # The sketch is not needed any more; dropping it keeps the history small.
        job.request = None  # type: ignore[assignment]
        job.png = None
        self._emit(job, "state", job.status())
        self._finished.append(job.id)
        kept = sum(self._jobs[job_id].result_bytes for job_id in self._finished)
        # Forget the oldest until both bounds hold, but always keep the job that just ended.
        while len(self._finished) > 1 and (
            len(self._finished) > self._history or kept > self._max_result_bytes
        ):
            forgotten = self._jobs.pop(self._finished.popleft())
            kept -= forgotten.result_bytes

    def _emit(self, job: Job, name: str, data: dict[str, Any]) -> None:
        # Caller holds the lock.
        job.events.append((name, data))
        self._notify()

    def _notify(self) -> None:
        # Caller holds the lock.
        self._changed.notify_all()
        for listener in self._listeners:
            listener()
