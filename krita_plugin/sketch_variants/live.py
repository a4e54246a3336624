"""Live mode: the sketch layer is watched, and each change gets a quick variant on the canvas,
then, once the artist pauses, the variant Keep would add (the same seed with the full path)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from .client import EngineClient, Failure
from .host import Host
from .job_runner import JobRunner, Outcome, insert_variants, request_fields
from .qt import QObject, QTimer
from .values import SEED_MAX, Job, Params, Sketch, Target, Variant
from .worker import Worker

# How often the layer is checked on Krita's main thread. A check costs microseconds (see
# Host.layer_fingerprint), so a stroke's end is noticed within this time at no cost to drawing;
# the wait for it is half this on average: 10 ms of the 0.2 s a preview may take.
CHECK_INTERVAL_MS = 20
# While the artist draws, the layer changes at every check. Reading a 600 px sketch takes 0.5 ms,
# but a layer filling a 4000 x 3000 canvas 50-90 ms of the main thread, so reads are spaced to
# take at most this share of it while they follow the brush.
READ_SHARE = 0.2


class LiveMode(QObject):
    """While on, the newest sketch of one layer has its variant in a live layer just above it."""

    def __init__(
        self,
        client: EngineClient,
        worker: Worker,
        host: Host,
        params: Callable[[], Params],
        ready: Callable[[], bool],
        update: Callable[..., None],
        lost: Callable[[Failure], None],
        parent: QObject | None = None,
    ) -> None:
        """`ready()` says whether jobs can be sent (and starts connecting when not);
        `update(**changes)` changes what the docker shows; `lost` reports a lost engine."""
        super().__init__(parent)
        self.host = host
        self._params, self._ready, self._update, self._lost = params, ready, update, lost
        self.runner = JobRunner(client, worker, host, lambda step, total: None, self._show)
        # One key per Krita session: the engine drops this key's older requests, nobody else's.
        self.key = uuid.uuid4().hex
        self.target: Target | None = None
        self.seed = 0
        self._random = random.Random()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._seen: int | None = None  # the layer's fingerprint when last read
        self._next_read = 0.0  # time.monotonic() before which the layer is not read again
        self._sent: Sketch | None = None  # the newest sketch sent (or waiting to be)
        self._waiting: Job | None = None  # a request held until the engine is connected
        self._shown: Sketch | None = None  # the sketch whose variant the live layer shows
        # When the live layer shows what Keep would add of self._shown (it has settled): the job
        # that made it and its decoded variant, which Keep adds without the engine.
        self._settled_result: tuple[Job, list[tuple[int, bytes]], list[Variant]] | None = None
        self._live_id = ""  # the live layer's unique id, "" before the first result

    @property
    def on(self) -> bool:
        """True while live mode watches a layer."""
        return self.target is not None

    @property
    def settled(self) -> bool:
        """True when the live layer shows exactly the variant Keep would add (not the quick one)."""
        return self._settled_result is not None

    def start(self, target: Target, sketch: Sketch) -> None:
        """Watch `target`, whose sketch is `sketch`, and send it at once."""
        self.stop("")
        params = self._params()
        self.target = target
        self.seed = self._fresh_seed() if params.new_seed else params.seed
        self._seen = self.host.layer_fingerprint(target)
        self._timer.start()
        self._update(
            live=True,
            message=f"Live on '{target.layer_name}' (seed {self.seed}): draw, and its variant "
            "follows. Keep makes it a layer.",
        )
        self._send(sketch)

    def stop(self, message: str | None) -> None:
        """Stop watching and remove the live layer; `message` for the artist (None: keep it)."""
        if self.target is None:
            return
        self._timer.stop()
        self.runner.stop()
        self.host.remove_live(self.target, self._live_id)
        self.target, self._waiting = None, None
        self._forget_result()
        self._seen = None
        changes: dict[str, object] = {"live": False, "live_preview": b""}
        if message is not None:
            changes["message"] = message
        self._update(**changes)

    def new_seed(self) -> None:
        """Another seed for the same sketch (the docker's "New seed")."""
        if self.target is None:
            return
        self.seed = self._fresh_seed()
        self._update(message=f"Live seed {self.seed}.")
        self._sent = None  # the same pixels are worth sending again
        self._read_and_send()

    def keep(self) -> Job | Outcome | str:
        """Keep's variant of the shown live result: added at once when the live layer shows it
        (the settled preview), else the job that makes it; or why there is none."""
        if self.target is None:
            return "Turn Live on first: Keep makes its current result a layer."
        if self._shown is None:
            return "No live result yet: wait for it to appear on the canvas, then Keep it."
        kept = self._kept(self._shown)
        if self._settled_result is not None:
            made_by, pixels, variants = self._settled_result
            # Unless the docker's parameters changed since it was made.
            if made_by.sketch is kept.sketch and request_fields(made_by) == request_fields(kept):
                return insert_variants(self.host, kept, pixels, variants)
        return kept

    def resume(self) -> None:
        """The engine is connected: send the request that waited for it."""
        job, self._waiting = self._waiting, None
        if job is not None and self.target is not None:
            self.runner.run(job, partial(self._ended, job))

    def check(self) -> None:
        """One change check (the timer's): read and send the layer when it changed, unless the
        last read was too recent for its cost (the next check after that reads it)."""
        if self.target is None:
            return
        fingerprint = self.host.layer_fingerprint(self.target)
        if fingerprint is None:
            name = self.target.layer_name
            self.stop(f"Live stopped: '{name}' was closed or deleted. Turn Live on again to go on.")
        elif fingerprint != self._seen and time.monotonic() >= self._next_read:
            self._seen = fingerprint
            started = time.monotonic()
            self._read_and_send()
            self._next_read = started + (time.monotonic() - started) / READ_SHARE

    # ----- steps -----

    def _read_and_send(self) -> None:
        assert self.target is not None
        sketch = self.host.read_layer(self.target)
        if isinstance(sketch, str):  # erased to nothing, say: nothing to show
            self.runner.stop()
            self.host.remove_live(self.target, self._live_id)
            self._forget_result()
            self._update(message=sketch, live_preview=b"")
        elif sketch != self._sent:  # Krita may refresh its thumbnail with the pixels unchanged
            self._send(sketch)

    def _kept(self, sketch: Sketch) -> Job:
        """The job Keep runs for a sketch: one variant, full levels, upscale as the docker says."""
        assert self.target is not None
        params = replace(self._params(), count=1)
        return Job(target=self.target, sketch=sketch, params=params, seed=self.seed)

    def _send(self, sketch: Sketch) -> None:
        assert self.target is not None
        self._sent = sketch
        params = self._params()
        # Fewer levels and no upsampling stage: a preview now beats a crisp one later.
        quick = replace(params, count=1, steps=params.live_steps, upscale=False)
        job = Job(target=self.target, sketch=sketch, params=quick, seed=self.seed, live=self.key)
        if self._ready():
            self._run(job)
        else:
            self._waiting = job

    def _run(self, job: Job) -> None:
        # The engine drops this client's older live request itself: no cancel round trip.
        self.runner.run(job, partial(self._ended, job), superseding=True)

    def _settle(self, quick: Job) -> None:
        """After a quick preview of the newest sketch, the variant Keep would add of it: what the
        artist sees once they pause is then what Keep gives, to the pixel."""
        if self._newest(quick):  # no newer sketch or seed is on its way
            self._run(replace(self._kept(quick.sketch), live=self.key))

    def _show(self, job: Job, pixels: list[tuple[int, bytes]], variants: list[Variant]) -> Outcome:
        """The runner's delivery: the result into the live layer, its PNG for the docker."""
        live_id = self.host.show_live(job.target, job.sketch, pixels[0][1], self._live_id)
        if not live_id:
            return Outcome("")  # the layer went away; the next check says so
        self._live_id, self._shown = live_id, job.sketch
        settled = request_fields(job) == request_fields(self._kept(job.sketch))
        self._settled_result = (job, pixels, variants) if settled else None
        return Outcome("", thumbnails=(variants[0].png,))

    def _ended(self, job: Job, outcome: Outcome) -> None:
        if outcome.lost is not None:
            self._lost(outcome.lost)
        elif outcome.cancelled and self._newest(job):
            # Only a request of ours that reached the engine after this one (HTTP requests run
            # on parallel connections) supersedes our newest: it goes again, and now arrives last.
            self._run(job)
        elif outcome.thumbnails:
            self._update(live_preview=outcome.thumbnails[0])
            if not self.settled and self.target is not None:
                self._settle(job)
        elif outcome.message:
            self._update(message=outcome.message)

    def _newest(self, job: Job) -> bool:
        """Whether `job` is of the newest sketch and seed (not one since replaced)."""
        return self.target is not None and job.sketch is self._sent and job.seed == self.seed

    def _forget_result(self) -> None:
        self._live_id, self._shown, self._sent = "", None, None
        self._settled_result = None

    def _fresh_seed(self) -> int:
        return self._random.randrange(0, SEED_MAX)
