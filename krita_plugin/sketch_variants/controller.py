"""The plugin logic: job queue, engine connection, progress; the docker and actions drive it."""

from __future__ import annotations

import random
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PyQt5.QtCore import QObject, pyqtSignal

from . import settings as settings_module
from .client import AUTH, UNREACHABLE, EngineClient, Failure
from .engine_process import EngineProcess
from .host import Host
from .model import SEED_MAX, Job, JobRequest, Params, Sketch, Target, UiState, Variant
from .pixels import decode_png_bgra, sketch_png
from .worker import Worker

MAX_THUMBNAILS = 8
# A fresh seed leaves room for seed + count - 1 within the engine's seed range.
_SEED_CEILING = SEED_MAX - 64


class Controller(QObject):
    """Turns artist requests into engine jobs and their results into layers; never raises to Qt."""

    changed = pyqtSignal()  # state was replaced

    def __init__(self, host: Host, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.settings = settings_module.load(host.read_setting)
        self.state = UiState()
        self.client = EngineClient(self)
        self.process = EngineProcess(self)
        self.worker = Worker(self)
        self._queue: list[Job] = []
        self._current: Job | None = None
        self._job_id = ""
        self._stream = None
        self._run = 0  # bumped on cancel so late callbacks of an abandoned job are ignored
        self._connecting = False
        self._random = random.Random()

    # ----- what the docker's buttons and the actions call -----

    def generate_active(self) -> None:
        """Queue variants of the active layer's sketch."""
        self._guard(lambda: self._enqueue(*self.host.active_sketch()))

    def fill_selected(self) -> None:
        """Queue variants for every selected layer."""
        self._guard(lambda: self._enqueue(*self.host.selected_sketches()))

    def cancel(self) -> None:
        """Drop queued jobs and cancel the running one."""
        self._run += 1
        dropped = len(self._queue) + (1 if self._current else 0)
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._job_id:
            self.client.cancel(self._job_id)
        self._stop_all("Cancelled." if dropped else self.state.message)

    def start_engine(self) -> None:
        """Connect to the engine, starting a local one if none answers (the Start button)."""
        self._guard(lambda: self._ensure_engine(start=True))

    def check_engine(self) -> None:
        """Refresh the engine status without starting anything."""
        self._guard(lambda: self._ensure_engine(start=False))

    def set_params(self, params: Params) -> None:
        """Remember the artist's parameters in Krita's settings."""
        self.settings = self.settings.with_params(params)
        self._save()

    def update_settings(self, new: settings_module.Settings) -> None:
        """Replace and persist all settings; the next job connects with them."""
        self.settings = new
        self._save()
        self._update(status="not connected", reason="")

    def shutdown(self) -> None:
        """Krita is quitting: cancel work and stop the engine unless it should keep running."""
        self._guard(self._shutdown)

    # ----- jobs -----

    def _enqueue(self, sketches: list[tuple[Target, Sketch]], problems: list[str]) -> None:
        params = self.settings.params
        for target, sketch in sketches:
            seed = self._random.randrange(0, _SEED_CEILING) if params.new_seed else params.seed
            self._queue.append(Job(target=target, sketch=sketch, params=params, seed=seed))
        message = " ".join(problems)
        if sketches:
            self._update(busy=True, jobs_left=len(self._queue), message=message)
            self._ensure_engine(start=True)
        else:
            self._update(message=message or "Select a layer with a sketch first.")

    def _next(self) -> None:
        if self._current is not None or not self._queue:
            if not self._queue and self._current is None:
                self._update(busy=False, jobs_left=0)
            return
        job = self._queue.pop(0)
        self._current = job
        run = self._run
        self._update(busy=True, step=0, total=job.params.steps, jobs_left=len(self._queue))
        # PNG encoding of a large sketch takes longer than a frame: it runs on a worker thread.
        self.worker.run(
            lambda: build_request(job),
            lambda request: self._guard(lambda: self._submit(run, job, request)),
            lambda error: self._guard(lambda: self._worker_failed(run, error)),
        )

    def _submit(self, run: int, job: Job, request: JobRequest) -> None:
        if run != self._run:
            return
        self.client.submit(
            request,
            lambda job_id: self._guard(lambda: self._submitted(run, job, job_id)),
            lambda failure: self._guard(lambda: self._job_failed(run, failure)),
        )

    def _worker_failed(self, run: int, error: BaseException) -> None:
        if run == self._run:
            self._finish_job(f"Could not prepare the images ({type(error).__name__}: {error}).")

    def _submitted(self, run: int, job: Job, job_id: str) -> None:
        if run != self._run:
            self.client.cancel(job_id)  # cancelled while the submit was in flight
            return
        self._job_id = job_id
        self._stream = self.client.events(
            job_id,
            lambda step, total: self._guard(lambda: self._progress(run, step, total)),
            lambda state, error: self._guard(lambda: self._ended(run, job, state, error)),
            lambda failure: self._guard(lambda: self._job_failed(run, failure)),
        )

    def _progress(self, run: int, step: int, total: int) -> None:
        if run == self._run:
            self._update(step=step, total=total)

    def _ended(self, run: int, job: Job, state: str, error: str) -> None:
        if run != self._run:
            return
        self._stream = None
        if state == "done":
            self.client.result(
                self._job_id,
                lambda variants: self._guard(lambda: self._insert(run, job, variants)),
                lambda failure: self._guard(lambda: self._job_failed(run, failure)),
            )
            return
        if state == "cancelled":
            self._finish_job(f"The engine cancelled the job for '{job.target.layer_name}'.")
        else:
            self._finish_job(
                f"The engine could not make variants of '{job.target.layer_name}': "
                f"{error or 'no reason given'}. Try other parameters, or see the engine's log."
            )

    def _insert(self, run: int, job: Job, variants: list[Variant]) -> None:
        if run != self._run:
            return
        box = job.sketch.box
        self.worker.run(
            lambda: decode_variants(variants, box.width, box.height),
            lambda pixels: self._guard(lambda: self._place(run, job, variants, pixels)),
            lambda error: self._guard(lambda: self._worker_failed(run, error)),
        )

    def _place(
        self, run: int, job: Job, variants: list[Variant], pixels: list[tuple[int, bytes]]
    ) -> None:
        if run != self._run:
            return
        if not pixels:
            self._finish_job("The engine's result had no readable images; try again.")
            return
        inserted = self.host.insert_variants(job.target, job.sketch, pixels, job.params.radius)
        thumbnails = tuple(variant.png for variant in variants)[:MAX_THUMBNAILS]
        if inserted:
            self._update(thumbnails=thumbnails)
            self._finish_job(f"{len(pixels)} variants of '{job.target.layer_name}' added.")
        else:
            # The document was closed (or the layer deleted): nothing to add, nothing to report.
            self._finish_job(self.state.message)

    def _job_failed(self, run: int, failure: Failure) -> None:
        if run != self._run:
            return
        self._stream = None
        if failure.kind in (UNREACHABLE, AUTH):
            # The engine is gone or refuses us: every queued job would fail the same way.
            self._queue.clear()
            self._current, self._job_id = None, ""
            self._set_unreachable(failure)
            self._update(busy=False, step=0, total=0, jobs_left=0)
            return
        self._finish_job(f"The engine refused the job: {failure.message}.")

    def _finish_job(self, message: str) -> None:
        self._current, self._job_id = None, ""
        self._update(step=0, total=0, message=message)
        self._next()

    # ----- engine connection -----

    def _ensure_engine(self, start: bool) -> None:
        if self.state.status == "connected" and self.client.url:
            self._next()
            return
        if self._connecting:
            return
        url = self.settings.server_url or self.settings.last_engine_url
        if not url:
            self._health_failed(Failure(UNREACHABLE, "no engine started yet"), start)
            return
        self._connecting = True
        self.client.configure(url, settings_module.read_token(self.settings))
        self.client.health(
            lambda info: self._guard(lambda: self._connected(url)),
            lambda failure: self._guard(lambda: self._health_failed(failure, start)),
        )

    def _health_failed(self, failure: Failure, start: bool) -> None:
        self._connecting = False
        remote = bool(self.settings.server_url) and not settings_module.is_loopback(
            self.settings.server_url
        )
        if start and failure.kind == UNREACHABLE and not remote:
            self._start_process()
            return
        self._set_unreachable(failure)
        self._drop_queue()

    def _drop_queue(self) -> None:
        if self._queue:
            self._queue.clear()
            self._update(busy=False, jobs_left=0)

    def _start_process(self) -> None:
        argv, cwd = settings_module.engine_command(self.settings)
        if not argv or ("/" in argv[0] and not Path(argv[0]).exists()):
            # The usual first-run case: nothing installed yet, so say how to install it.
            self._set_unreachable(Failure(UNREACHABLE, f"no engine at {argv[0] if argv else '?'}"))
            self._drop_queue()
            return
        self._connecting = True
        self._update(
            status="starting", reason="loading the model", message="Starting the engine..."
        )
        log = settings_module.data_dir() / "engine.log"
        self.process.start(
            argv,
            cwd,
            self.settings.start_timeout_s,
            lambda url: self._guard(lambda: self._process_ready(url)),
            lambda message: self._guard(lambda: self._process_failed(message)),
            detached_log=log if self.settings.keep_engine_running else None,
        )

    def _process_ready(self, url: str) -> None:
        self.settings = replace(self.settings, last_engine_url=url)
        self.host.write_setting("last_engine_url", url)
        self.client.configure(url, settings_module.read_token(self.settings))
        self.client.health(
            lambda info: self._guard(lambda: self._connected(url)),
            lambda failure: self._guard(lambda: self._health_failed(failure, start=False)),
        )

    def _process_failed(self, message: str) -> None:
        self._connecting = False
        was_connected = self.state.status == "connected"
        self._queue.clear()
        self._current, self._job_id, self._stream = None, "", None
        if was_connected:
            advice = f"The engine stopped ({message}): click Start to run it again."
        else:
            advice = (
                f"Engine could not start ({message}): check the engine command in the "
                "settings, or run `make install`."
            )
        self._update(
            status="not reachable",
            reason=message,
            busy=False,
            step=0,
            total=0,
            jobs_left=0,
            message=advice,
        )

    def _connected(self, url: str) -> None:
        self._connecting = False
        self._update(status="connected", reason=url)
        if self.state.message == "Starting the engine...":
            self._update(message="")
        self._next()

    def _set_unreachable(self, failure: Failure) -> None:
        self._connecting = False
        if failure.kind == AUTH:
            message = (
                f"The engine refused the access token ({failure.message}): set the engine's token "
                "in the settings, or click Start to use a local engine."
            )
        elif self.settings.server_url and not settings_module.is_loopback(self.settings.server_url):
            message = (
                f"Engine at {self.settings.server_url} not reachable ({failure.message}): check "
                "the address in the settings and that the engine runs there."
            )
        else:
            message = f"Engine not running: click Start, or run `make install` ({failure.message})."
        self._update(status="not reachable", reason=failure.message, message=message)

    def _shutdown(self) -> None:
        self.cancel()
        if self.settings.keep_engine_running:
            self.process.detach()
        else:
            self.process.stop()

    # ----- plumbing -----

    def _save(self) -> None:
        settings_module.save(self.settings, self.host.write_setting)

    def _update(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)
        self.changed.emit()

    def _guard(self, work: Callable[[], object]) -> None:
        """Run `work`; an unexpected error becomes a message instead of a traceback dialog."""
        try:
            work()
        except Exception as error:  # noqa: BLE001 - the UI must survive any bug in a callback
            traceback.print_exc()  # so the bug is in Krita's log, not only in the docker
            self._stop_all(
                f"Sketch Variants hit an internal error ({type(error).__name__}: {error}); "
                "please report it."
            )

    def _stop_all(self, message: str) -> None:
        """Forget every queued and running job and show `message`."""
        self._queue.clear()
        self._current, self._job_id = None, ""
        self._update(busy=False, step=0, total=0, jobs_left=0, message=message)


def build_request(job: Job) -> JobRequest:
    """The POST /v1/jobs body for a job (pure CPU work, safe on a worker thread)."""
    params, box = job.params, job.sketch.box
    return JobRequest(
        sketch_png=sketch_png(job.sketch.bgra, box.width, box.height),
        mode=params.mode,
        count=params.count,
        radius=params.radius,
        seed=job.seed,
        steps=params.steps,
        strength=params.strength if params.mode == "sdedit" else None,
    )


def decode_variants(variants: list[Variant], width: int, height: int) -> list[tuple[int, bytes]]:
    """(seed, Krita-ordered pixels) of every readable variant (safe on a worker thread)."""
    pixels = []
    for variant in variants:
        bgra = decode_png_bgra(variant.png, width, height)
        if bgra is not None:
            pixels.append((variant.seed, bgra))
    return pixels
