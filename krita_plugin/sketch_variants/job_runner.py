"""Runs one job at a time, its steps top to bottom: encode, submit, follow, fetch, decode, add."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial
from typing import Any

from .client import EngineClient, EventStream, Failure
from .events import Event, Progress, StateChange
from .host import Host
from .pixels import decode_png_bgra, png_size, sketch_png
from .values import Job, JobRequest, Variant
from .worker import Worker

MAX_THUMBNAILS = 8


class ImagesRefused(ValueError):
    """The engine's images cannot be what it was asked for; they are not decoded."""


@dataclass(frozen=True)
class Outcome:
    """How a job ended: a message for the artist, or the failure that lost the engine."""

    message: str
    lost: Failure | None = None  # the engine is gone or refuses us: the queue cannot go on
    thumbnails: tuple[bytes, ...] = ()  # PNGs of the variants added
    cancelled: bool = False  # the engine cancelled the job (not us: a job we stop never ends)


# One asynchronous step: started with (on_value, on_failed); on_failed gets the job's Outcome.
Step = Callable[[Callable[[Any], None], Callable[[Outcome], None]], None]
Steps = Generator[Step, Any, Outcome]
# One EngineClient call, given its (on_ok, on_error) callbacks.
EngineCall = Callable[[Callable[[Any], None], Callable[[Failure], None]], None]
# Puts a finished job's decoded (seed, pixels) and its variants where they belong.
Deliver = Callable[[Job, list[tuple[int, bytes]], list[Variant]], Outcome]


class JobRunner:
    """Drives one job's steps; `stop` is the only way a job ends early."""

    def __init__(
        self,
        client: EngineClient,
        worker: Worker,
        host: Host,
        on_progress: Callable[[int, int], None],
        deliver: Deliver | None = None,
    ) -> None:
        self.client = client
        self.worker = worker
        self.host = host
        self._on_progress = on_progress
        # New variant layers unless told otherwise.
        self._deliver = deliver or partial(insert_variants, host)
        self._steps: Steps | None = None  # the running job's steps; None when idle
        self._on_end: Callable[[Outcome], None] = lambda outcome: None
        self._job_id = ""
        self._stream: EventStream | None = None

    @property
    def running(self) -> bool:
        """True while a job runs."""
        return self._steps is not None

    def run(self, job: Job, on_end: Callable[[Outcome], None], superseding: bool = False) -> None:
        """Run `job`; on_end gets its Outcome unless it is stopped first.

        superseding: the engine itself drops the running job when this one arrives (a live
        request), so it is abandoned without a cancel request.
        """
        self.stop(cancel=not superseding)
        self._on_end = on_end
        self._steps = self._job(job)
        self._advance(self._steps, None)

    def stop(self, cancel: bool = True) -> None:
        """Abandon the running job: close its stream, drop late answers, cancel it on the engine."""
        steps, self._steps = self._steps, None
        if steps is None:
            return
        steps.close()
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._job_id and cancel:
            self.client.cancel(self._job_id)
        self._job_id = ""

    def _job(self, job: Job) -> Steps:
        """The job from the layer's pixels to its delivery, one step per engine answer."""
        name, box = job.target.layer_name, job.sketch.box
        request = yield self._off_thread(lambda: build_request(job))
        self._job_id = yield self._submit(request)
        state, error = yield self._follow(self._job_id)
        if state == "cancelled":
            return Outcome(f"The engine cancelled the job for '{name}'.", cancelled=True)
        if state != "done":
            return Outcome(
                f"The engine could not make variants of '{name}': {error or 'no reason given'}. "
                "Try other parameters, or see the engine's log."
            )
        variants = yield self._engine(
            lambda ok, failed: self.client.result(self._job_id, ok, failed)
        )
        self._job_id = ""
        pixels = yield self._off_thread(lambda: decode_variants(variants, box.width, box.height))
        if not pixels:
            return Outcome("The engine's result had no readable images; try again.")
        return self._deliver(job, pixels, variants)

    # ----- the kinds of step -----

    def _off_thread(self, work: Callable[[], Any]) -> Step:
        """PNG work takes longer than a frame for a large sketch: it runs on a worker thread."""

        def step(on_value: Callable[[Any], None], on_failed: Callable[[Outcome], None]) -> None:
            def failed(error: BaseException) -> None:
                if isinstance(error, ImagesRefused):
                    on_failed(Outcome(f"The engine's images were refused: {error}."))
                else:
                    on_failed(
                        Outcome(f"Could not prepare the images ({type(error).__name__}: {error}).")
                    )

            self.worker.run(work, on_value, failed)

        return step

    def _engine(self, call: EngineCall) -> Step:
        """One engine request; a failure ends the job (and the queue, if the engine is lost)."""

        def step(on_value: Callable[[Any], None], on_failed: Callable[[Outcome], None]) -> None:
            call(on_value, lambda failure: on_failed(_failure_outcome(failure)))

        return step

    def _submit(self, request: JobRequest) -> Step:
        steps = self._steps

        def call(on_value: Callable[[str], None], on_failed: Callable[[Failure], None]) -> None:
            def accepted(job_id: str) -> None:
                if steps is not self._steps:
                    self.client.cancel(job_id)  # stopped while the submit was in flight
                on_value(job_id)

            self.client.submit(request, accepted, on_failed)

        return self._engine(call)

    def _follow(self, job_id: str) -> Step:
        """The job's event stream: progress goes straight out; the step ends at the final state."""

        def call(on_value: Callable[[Any], None], on_failed: Callable[[Failure], None]) -> None:
            def event(event: Event) -> None:
                if isinstance(event, StateChange) and event.final:
                    self._stream = None
                    on_value((event.state, event.error))
                elif isinstance(event, Progress) and self._stream is not None:
                    self._on_progress(event.step, event.total)

            self._stream = self.client.events(job_id, event, on_failed)

        return self._engine(call)

    # ----- the driver -----

    def _advance(self, steps: Steps, value: Any) -> None:
        """Resume the job with a step's value and start its next step; late answers are dropped."""
        if steps is not self._steps:
            return
        try:
            step = steps.send(value)
        except StopIteration as finished:
            self._end(steps, finished.value)
            return
        step(lambda result: self._advance(steps, result), lambda outcome: self._end(steps, outcome))

    def _end(self, steps: Steps, outcome: Outcome) -> None:
        if steps is not self._steps:
            return
        steps.close()
        self._steps, self._stream, self._job_id = None, None, ""
        self._on_end(outcome)


def insert_variants(
    host: Host, job: Job, pixels: list[tuple[int, bytes]], variants: list[Variant]
) -> Outcome:
    """A job's variants as new layers above its sketch, and what the docker says of them."""
    name = job.target.layer_name
    if not host.insert_variants(job.target, job.sketch, pixels, job.params.radius):
        # The document was closed (or the layer deleted): nothing to add, nothing to report.
        return Outcome("")
    thumbnails = tuple(variant.png for variant in variants)[:MAX_THUMBNAILS]
    added = f"{len(pixels)} variant{'s' if len(pixels) != 1 else ''}"
    return Outcome(f"{added} of '{name}' added.", thumbnails=thumbnails)


def _failure_outcome(failure: Failure) -> Outcome:
    if failure.lost:
        return Outcome("", lost=failure)
    return Outcome(f"The engine refused the job: {failure.message}.")


def request_fields(job: Job) -> dict[str, Any]:
    """A job's request but its sketch and live key: one-variant jobs of the same sketch with
    equal fields get the same variant (so a settled live result is Keep's)."""
    params = job.params
    return {
        "mode": params.mode,
        "count": params.count,
        "radius": params.radius,
        "seed": job.seed,
        "steps": params.requested_steps,
        "strength": params.strength if params.mode == "sdedit" else None,
        "upscale": params.upscale,
        "clean_fills": params.clean_fills,
        "model": params.model,
        "colour": params.colour,
    }


def build_request(job: Job) -> JobRequest:
    """The POST /v1/jobs body for a job (pure CPU work, safe on a worker thread)."""
    box = job.sketch.box
    return JobRequest(
        sketch_png=sketch_png(job.sketch.bgra, box.width, box.height),
        live=job.live,
        **request_fields(job),
    )


def decode_variants(variants: list[Variant], width: int, height: int) -> list[tuple[int, bytes]]:
    """(seed, Krita-ordered pixels) of every readable variant (safe on a worker thread).

    A PNG declaring more pixels than the layer is refused before decoding: a hostile or broken
    engine could otherwise make Krita allocate gigabytes.
    """
    pixels = []
    for variant in variants:
        declared = png_size(variant.png)
        if declared is not None and (declared[0] > width or declared[1] > height):
            raise ImagesRefused(
                f"it sent a {declared[0]} x {declared[1]} image for a {width} x {height} layer; "
                "check that the engine address in the settings is a Sketch Variants engine"
            )
        bgra = decode_png_bgra(variant.png, width, height) if declared else None
        if bgra is not None:
            pixels.append((variant.seed, bgra))
    return pixels
