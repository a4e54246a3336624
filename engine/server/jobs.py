"""Generation jobs, one payload of the server's work queue: a sketch and its parameters, run on a
swappable engine (engine.pipeline.Engine, or whatever else generates: a studio's cluster)."""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from engine.images import encode_png
from engine.request import GenerateRequest, GenerateResult
from engine.server.payload import decode_sketch_png
from engine.server.work import State, WorkItem, WorkQueue

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


@dataclass(frozen=True)
class Outcome:
    """What a finished run gives its job."""

    variants: list[dict[str, Any]]  # {"seed", "png": base64 PNG}
    timings: dict[str, float]  # milliseconds per stage, see Job.timings


@dataclass(eq=False)
class Job(WorkItem):
    """One sketch and its parameters, with its progress and (once done) result."""

    noun: ClassVar[str] = "job"
    inputs: ClassVar[str] = "sketches"
    # A job's events start at `running`: clients post and then follow, the submit answered queued.
    queued_event: ClassVar[bool] = False

    request: GenerateRequest = field(repr=False)
    # The sketch still PNG-encoded, decoded when the job runs; request.sketch is then a 1-pixel
    # stand-in. None: request.sketch is the sketch itself.
    png: bytes | None = field(default=None, repr=False)
    step: int = 0
    # Denoising steps: the request's until the engine reports its own (0 while unknown: a request
    # that names none runs its model's, known once the job runs).
    total: int = 0
    # A client's live-session key: a newer job with the same key supersedes this one.
    live: str | None = None
    model: str | None = None  # the model the request named; None: the selected one
    variants: list[dict[str, Any]] | None = field(default=None, repr=False)  # {"seed", "png"}
    submitted: float = field(default_factory=time.perf_counter, repr=False)
    # Milliseconds per stage once done: queue (waiting), prepare (the model picked, the sketch
    # PNG decoded), engine (generate), encode (the variants' PNGs). The result's Server-Timing
    # header sends them, so a client can tell the engine's share of its latency from the rest.
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.total = self.request.steps or 0

    @property
    def result_bytes(self) -> int:
        """Size of the kept result (base64 PNG text), 0 until done."""
        return sum(len(variant["png"]) for variant in self.variants or ())

    @property
    def input_bytes(self) -> int:
        """The waiting sketch's PNG bytes."""
        return len(self.png or b"")

    @property
    def kept_bytes(self) -> int:
        """The result's bytes (history keeps these)."""
        return self.result_bytes

    def status(self) -> dict[str, Any]:
        """The job's public state as JSON-ready values."""
        return {**super().status(), "step": self.step, "total": self.total}

    def ended(self, state: State, result: Outcome | None) -> None:
        """Keep the result; drop the sketch, the largest thing a finished job would hold."""
        if result is not None:
            self.variants, self.timings = result.variants, result.timings
        self.request = None  # type: ignore[assignment]
        self.png = None


JobQueue = WorkQueue[Job]


def encode_variants(result: GenerateResult) -> list[dict[str, Any]]:
    """Variants as JSON-ready dicts with base64 PNG images."""
    return [
        {"seed": int(variant.seed), "png": base64.b64encode(encode_png(variant.image)).decode()}
        for variant in result.variants
    ]


class Generation:
    """What runs generation jobs: the selected engine, swapped between jobs, and engines of
    models that jobs name. Several jobs may run at once; a switch waits until none does."""

    def __init__(
        self,
        engine: GenerateEngine,
        engine_named: Callable[[str], GenerateEngine] | None = None,
    ) -> None:
        """engine_named(name): the engine of a model a job names (loaded or cached)."""
        self._engine = engine
        self._engine_named = engine_named
        self._in_use = 0  # jobs running on the engines now
        self._switching = False
        self._changed = threading.Condition()

    @property
    def engine(self) -> GenerateEngine:
        """The engine jobs run on now."""
        return self._engine

    def switch_engine(self, load: Callable[[], GenerateEngine]) -> GenerateEngine:
        """Load a new engine once the running jobs end and run later jobs on it."""
        with self._changed:
            self._changed.wait_for(lambda: not self._switching)
            self._switching = True
            try:
                self._changed.wait_for(lambda: self._in_use == 0)
                self._engine = load()
                return self._engine
            finally:
                self._switching = False
                self._changed.notify_all()

    def __call__(self, job: Job, queue: WorkQueue[Job]) -> Outcome:
        """Run `job`: decode its sketch, generate with progress events, encode the variants."""

        def on_progress(step: int, total: int) -> None:
            with queue.locked():
                job.step, job.total = int(step), int(total)
                queue.emit(job, "progress", {"step": job.step, "total": job.total})

        clock = [time.perf_counter()]
        timings = {"queue": (clock[0] - job.submitted) * 1000}

        def lap(stage: str) -> None:
            now = time.perf_counter()
            timings[stage], clock[0] = (now - clock[0]) * 1000, now

        with self._engine_in_use() as engine:
            if job.model is not None and self._engine_named is not None:
                engine = self._engine_named(job.model)
            request = job.request
            if job.png is not None:
                request = dataclasses.replace(request, sketch=decode_sketch_png(job.png))
            lap("prepare")
            result = engine.generate(request, on_progress, lambda: queue.should_stop(job))
            lap("engine")
        del request  # the decoded sketch is the largest thing a job holds: free it first
        variants = encode_variants(result)
        lap("encode")
        return Outcome(variants, timings)

    @contextmanager
    def _engine_in_use(self) -> Iterator[GenerateEngine]:
        # A pending switch goes first: jobs after it run on the new engine.
        with self._changed:
            self._changed.wait_for(lambda: not self._switching)
            self._in_use += 1
            engine = self._engine
        try:
            yield engine
        finally:
            with self._changed:
                self._in_use -= 1
                self._changed.notify_all()


def supersede(queue: JobQueue, live: str) -> Callable[[], None]:
    """The admit() of a live job: cancel its key's waiting jobs and stop its running one."""
    # A live client wants only its newest sketch: older ones would make the artist wait for
    # results already out of date.
    return lambda: queue.cancel_where(lambda job: job.live == live, SUPERSEDED)
