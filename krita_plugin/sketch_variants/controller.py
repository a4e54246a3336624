"""The plugin's logic: the job queue between the artist, the engine connection and the runner."""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from . import settings as settings_module
from .client import EngineClient, Failure
from .connection import STARTING_MESSAGE, EngineConnection
from .engine_process import EngineProcess
from .host import Host
from .job_runner import JobRunner, Outcome
from .live import LiveMode
from .qt import QObject, Signal
from .training_runner import TrainingRunner
from .values import SEED_MAX, EngineState, Job, Params, Sketch, Target, UiState
from .worker import Worker

# A fresh seed leaves room for seed + count - 1 within the engine's seed range.
_SEED_CEILING = SEED_MAX - 64


class Controller(QObject):
    """Turns artist requests into engine jobs and their results into layers; never raises to Qt."""

    changed = Signal()  # state was replaced

    def __init__(self, host: Host, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.settings = settings_module.load(host.read_setting)
        self.state = UiState()
        # Every callback from Qt, the network and the worker thread runs through _guard.
        self.client = EngineClient(self, guard=self._guard)
        self.process = EngineProcess(self, guard=self._guard)
        self.worker = Worker(self, guard=self._guard)
        self.connection = EngineConnection(
            self.client, self.process, lambda: self.settings, self._remember_url, self._status
        )
        self.runner = JobRunner(self.client, self.worker, host, self._progress)
        params = lambda: self.settings.params  # noqa: E731 - read anew at every live request
        self.live = LiveMode(
            self.client, self.worker, host, params, self._engine_ready, self._update, self._lose
        )
        self.training = TrainingRunner(
            self.client, self.worker, host, self._engine_ready, self._lose
        )
        self._queue: list[Job] = []
        self._random = random.Random()

    # ----- what the docker's buttons and the actions call -----

    def generate_active(self) -> None:
        """Queue variants of the active layer's sketch."""
        self._guard(lambda: self._enqueue(*self.host.active_sketch()))

    def fill_selected(self) -> None:
        """Queue variants for every selected layer."""
        self._guard(lambda: self._enqueue(*self.host.selected_sketches()))

    def set_live(self, on: bool) -> None:
        """Live mode on for the active layer, or off (the docker's Live toggle)."""
        self._guard(lambda: self._start_live() if on else self.live.stop("Live off."))

    def toggle_live(self) -> None:
        """Live mode on if off, off if on (the action)."""
        self.set_live(not self.live.on)

    def new_live_seed(self) -> None:
        """Another seed for the live variant."""
        self._guard(self.live.new_seed)

    def keep_live(self) -> None:
        """Keep's variant of the live result, for the same seed, as a layer: at once when the live
        layer shows it (settled), else queued as a job."""

        def keep() -> None:
            kept = self.live.keep()
            if isinstance(kept, str):
                self._update(message=kept)
            elif isinstance(kept, Outcome):  # the settled preview, added as it is
                self._show_outcome(kept)
            else:
                self._queue_jobs([kept], "")

        self._guard(keep)

    def cancel(self) -> None:
        """Drop queued jobs and cancel the running one (live mode stops too)."""
        busy = self.runner.running or bool(self._queue)
        self._guard(lambda: self._stop_all("Cancelled." if busy else self.state.message))

    def train(self, source: str, name: str, length: str, folder: str = "") -> None:
        """Teach the engine the drawings of `source` as model `name` (the training dialog)."""
        self._guard(lambda: self.training.start(source, name, length, folder))

    def cancel_training(self) -> None:
        """Cancel the training; the engine keeps its checkpoint."""
        self._guard(self.training.cancel)

    def start_engine(self) -> None:
        """Connect to the engine, starting a local one if none answers (the Start button)."""
        self._guard(lambda: self.connection.connect(start=True))

    def check_engine(self) -> None:
        """Refresh the engine status without starting anything."""
        self._guard(lambda: self.connection.connect(start=False))

    def set_params(self, params: Params) -> None:
        """Remember the artist's parameters in Krita's settings."""
        self.settings = self.settings.with_params(params)
        self._save()

    def update_settings(self, new: settings_module.Settings) -> None:
        """Replace and persist all settings; the next job connects with them."""
        self.settings = new
        self._save()
        self.connection.reset()

    def shutdown(self) -> None:
        """Krita is quitting: cancel work and stop the engine unless it should keep running."""
        self.cancel()
        self._guard(self.connection.shutdown)  # never waits for the engine to exit

    # ----- the queue -----

    def _enqueue(self, sketches: list[tuple[Target, Sketch]], problems: list[str]) -> None:
        params = self.settings.params
        jobs = []
        for target, sketch in sketches:
            seed = self._random.randrange(0, _SEED_CEILING) if params.new_seed else params.seed
            jobs.append(Job(target=target, sketch=sketch, params=params, seed=seed))
        self._queue_jobs(jobs, " ".join(problems))

    def _queue_jobs(self, jobs: list[Job], message: str) -> None:
        """Queue `jobs` and start them, or show `message` when there are none."""
        self._queue.extend(jobs)
        if not jobs:
            self._update(message=message or "Select a layer with a sketch first.")
            return
        self._update(busy=True, jobs_left=len(self._queue), message=message)
        if self.connection.ready:
            self._next()
        else:
            self.connection.connect(start=True)

    def _next(self) -> None:
        """Start the next queued job when none runs."""
        if self.runner.running:
            return
        if not self._queue:
            self._update(busy=False, jobs_left=0)
            return
        job = self._queue.pop(0)
        total = job.params.requested_steps  # 0 (the model's own) until the engine reports it
        self._update(busy=True, step=0, total=total, jobs_left=len(self._queue))
        self.runner.run(job, self._ended)

    def _ended(self, outcome: Outcome) -> None:
        if outcome.lost is not None:
            self._lose(outcome.lost)
            return
        self._show_outcome(outcome)
        self._update(step=0, total=0)
        self._next()

    def _show_outcome(self, outcome: Outcome) -> None:
        """A finished job's thumbnails and message in the docker."""
        if outcome.thumbnails:
            self._update(thumbnails=outcome.thumbnails)
        # An empty message (results for a closed document) leaves the last one standing.
        self._update(message=outcome.message or self.state.message)

    def _progress(self, step: int, total: int) -> None:
        self._update(step=step, total=total)

    def _stop_all(self, message: str) -> None:
        """The one way jobs end early: stop the running one, forget the queue, show `message`."""
        self.live.stop(None)
        self.runner.stop()
        self._queue.clear()
        self._update(busy=False, step=0, total=0, jobs_left=0, message=message)

    # ----- the connection -----

    def _status(self, status: EngineState, reason: str, message: str | None) -> None:
        """The connection's state changed: show it, and run or stop jobs accordingly."""
        self._update(status=status, reason=reason)
        if status is EngineState.CONNECTED:
            if self.state.message == STARTING_MESSAGE:
                self._update(message="")
            self.live.resume()
            self.training.resume()
            self._next()
        elif status is EngineState.UNREACHABLE:
            # Every queued job would fail the same way, and a training waiting to be sent too.
            message = message if message is not None else self.state.message
            self._stop_all(message)
            self.training.engine_gone(message)
        elif message is not None:
            self._update(message=message)

    # ----- live mode -----

    def _start_live(self) -> None:
        sketches, problems = self.host.active_sketch()
        if sketches:
            self.live.start(*sketches[0])
        else:
            self._update(message=" ".join(problems) or "Select a layer with a sketch first.")

    def _engine_ready(self) -> bool:
        """True when work can be sent now; otherwise connect (live and training wait for it)."""
        if not self.connection.ready:
            self.connection.connect(start=True)
        return self.connection.ready

    def _lose(self, failure: Failure) -> None:
        self.connection.lost(failure)  # reports UNREACHABLE, which stops everything

    def _remember_url(self, url: str) -> None:
        self.settings = replace(self.settings, last_engine_url=url)
        self.host.write_setting("last_engine_url", url)

    # ----- plumbing -----

    def _save(self) -> None:
        settings_module.save(self.settings, self.host.write_setting)

    def _update(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        self.changed.emit()

    def _guard(self, work: Callable[[], object]) -> None:
        """Run `work`; an unexpected error becomes a message instead of a traceback dialog."""
        try:
            work()
        except Exception as error:  # noqa: BLE001 - the UI must survive any bug in a callback
            traceback.print_exc()  # so the bug is in Krita's log, not only in the docker
            message = (
                f"Sketch Variants hit an internal error ({type(error).__name__}: {error}); "
                "please report it."
            )
            self._stop_all(message)
            self.training.stop(message)
