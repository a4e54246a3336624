"""Training jobs: one at a time on a worker thread, paused whenever a generation job wants the CPU.

A training's drawings are written into its own folder under the engine's data folder and trained
on with the function of `python -m engine train DATA_DIR` (engine.training). When it is done the
model moves to the model folder under its name; a cancelled one keeps its checkpoint to resume.
"""

from __future__ import annotations

import base64
import binascii
import collections
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Cancelled, EngineError
from engine.models_store import ModelStore, check_model_name, same_name
from engine.progress import BetweenSteps, TrainingProgress
from engine.server.jobs import (
    CANCELLED,
    DONE,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    QueueClosed,
    QueueFull,
    one_line,
)
from engine.server.payload import PNG_SIGNATURE, check_png
from engine.training import TrainOptions, train_model
from engine.weights import has_upscaler

log = logging.getLogger("engine.server")

DRAWINGS_RANGE = (8, 2000)  # fewer teach nothing; more is more than a laptop trains on
STEPS_RANGE = (1, 20000)
DEFAULT_STEPS = 300  # the "quick" length: about 5 minutes for both stages on a 2-core CPU
DEFAULT_HISTORY = 16  # finished trainings remembered
MAX_QUEUED = 4  # trainings waiting behind the running one
PREVIEW_SECONDS = 30.0  # a preview at most this often (each costs a second of generation)
PROGRESS_EVENTS = 200  # progress events per stage at most, so a long training's history is small
# An upsampler step costs this share of a diffusion step on the same CPU (the shipped stages: 0.28 s
# per upsampler step, 37.1 min for 8,000; 0.75 s per diffusion step at bench's 42.4 images/s);
# the ETA counts the stage still to come with it.
UPSCALER_STEP_COST = 0.37
DRAWINGS_FOLDER = "drawings"
MODEL_FOLDER = "model"


@dataclass(eq=False)
class Training:
    """One training: what was asked, where it stands, and its events for late subscribers."""

    name: str
    source: str  # the model it starts from
    steps: int  # steps of each stage
    drawings: int
    folder: Path = field(repr=False)
    stages: tuple[str, ...] = ("diffusion",)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = QUEUED
    stage: str = "diffusion"
    step: int = 0  # over both stages
    total: int = 0
    loss: float | None = None
    images_per_s: float | None = None
    eta_s: float | None = None
    paused: bool = False  # waiting for generation jobs to finish
    error: str | None = None
    cancel_requested: bool = False
    model: str | None = None  # the finished model's name
    resumable: bool = False  # cancelled or failed with a checkpoint to go on from
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.total = self.steps * len(self.stages)

    def status(self) -> dict[str, Any]:
        """The training's public state as JSON-ready values."""
        return {
            "id": self.id,
            "name": self.name,
            "from": self.source,
            "drawings": self.drawings,
            "state": self.state,
            "stage": self.stage,
            "step": self.step,
            "total": self.total,
            "loss": self.loss,
            "images_per_s": self.images_per_s,
            "eta_s": self.eta_s,
            "paused": self.paused,
            "error": self.error,
            "cancel_requested": self.cancel_requested,
            "model": self.model,
            "resumable": self.resumable,
        }


# Trains the stages of the options (engine.training.train_model), calling between_steps after each.
TrainFunction = Callable[[TrainOptions, BetweenSteps], None]
# Variants of the preview sketch by a stage-1 trainer: PNG bytes each.
PreviewFunction = Callable[[Any, Path], list[bytes]]


def decode_drawings(drawings: list[str], low: int = DRAWINGS_RANGE[0]) -> list[bytes]:
    """The drawings as checked PNG bytes; EngineError naming the first bad one, before training."""
    high = DRAWINGS_RANGE[1]
    if len(drawings) < low:
        raise EngineError(
            f"{len(drawings)} drawings are too few: send at least {low} finished drawings"
        )
    if len(drawings) > high:
        raise EngineError(f"{len(drawings)} drawings are too many: send at most {high}")
    from engine.teach import has_lines  # Pillow and NumPy work, not TensorFlow

    pngs = []
    for number, text in enumerate(drawings, start=1):
        name = f"drawing {number}"
        try:
            data = base64.b64decode("".join(str(text).split()), validate=True)
        except (binascii.Error, ValueError):
            raise EngineError(
                f"{name} is not valid base64: send each drawing as base64 PNG"
            ) from None
        if not data.startswith(PNG_SIGNATURE):
            raise EngineError(f"{name} is not a PNG image: export the drawings as PNG")
        check_png(data, name)
        if not has_lines(data, name):
            raise EngineError(f"{name} is empty: every drawing needs visible lines on it")
        pngs.append(data)
    return pngs


class TrainingQueue:
    """Trainings run one at a time on a worker thread, yielding to generation between steps."""

    def __init__(
        self,
        store: ModelStore,
        generation_busy: Callable[[], bool],
        train: TrainFunction = train_model,
        preview: PreviewFunction | None = None,
        history: int = DEFAULT_HISTORY,
        preview_seconds: float = PREVIEW_SECONDS,
    ) -> None:
        """generation_busy: True while generation jobs run or wait (the training then pauses);
        call generation_changed() whenever that may have changed."""
        self.store = store
        self._generation_busy = generation_busy
        self._train = train  # TensorFlow loads with the first training only
        self._preview = preview
        self._history = history
        self._preview_seconds = preview_seconds
        self.min_drawings = DRAWINGS_RANGE[0]  # fewer teach nothing (tests lower it)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._generation_changed = threading.Event()
        self._listeners: list[Callable[[], None]] = []
        self._trainings: dict[str, Training] = {}
        self._queue: collections.deque[Training] = collections.deque()
        self._finished: collections.deque[str] = collections.deque()
        self._running: Training | None = None
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="engine-training", daemon=True)

    def start(self) -> None:
        """Start the worker thread."""
        self._worker.start()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (with the lock held: it must not block) on every change."""
        with self._lock:
            self._listeners.append(listener)

    def generation_changed(self) -> None:
        """A generation job started, ended or was queued: a paused training re-checks."""
        self._generation_changed.set()

    def submit(self, name: str, source: str, steps: int, drawings: list[bytes]) -> Training:
        """Queue a training on checked drawings; EngineError, QueueFull or QueueClosed if not."""
        check_model_name(name)
        from_dir = self.store.resolve(source)
        low, high = STEPS_RANGE
        if not low <= steps <= high:
            raise EngineError(f"steps must be {low} to {high}, got {steps}")
        stages = ("diffusion", "upscaler") if has_upscaler(from_dir) else ("diffusion",)
        with self._lock:
            self._check_room(name)
            training = Training(name, source, steps, len(drawings), Path(), stages)
            training.folder = self.store.training_dir(training.id)
            self._write_drawings(training.folder / DRAWINGS_FOLDER, drawings)
            self._add(training)
        return training

    def resume(self, training_id: str) -> Training | None:
        """Queue a cancelled or failed training again from its checkpoint; None if unknown."""
        with self._lock:
            old = self._trainings.get(training_id)
            if old is None:
                return None
            if not old.resumable:
                raise EngineError(
                    f"training {old.name!r} is {old.state} and has nothing to resume: "
                    "start a new training"
                )
            self._check_room(old.name)
            training = Training(
                old.name, old.source, old.steps, old.drawings, old.folder, old.stages
            )
            old.resumable = False  # the new training owns the folder from now on
            self._add(training)
        return training

    def get(self, training_id: str) -> Training | None:
        """The training with this id, or None."""
        with self._lock:
            return self._trainings.get(training_id)

    def trainings(self) -> list[Training]:
        """Every remembered training, oldest first."""
        with self._lock:
            return list(self._trainings.values())

    def running(self) -> Training | None:
        """The training on the CPU now, if any."""
        with self._lock:
            return self._running

    def cancel(self, training_id: str) -> Training | None:
        """Cancel: a queued training at once, a running one after its step (checkpoint kept)."""
        with self._lock:
            training = self._trainings.get(training_id)
            if training is None or training.state in FINISHED:
                return training
            training.cancel_requested = True
            if training.state == QUEUED:
                self._queue.remove(training)
                training.resumable = True  # nothing trained yet: resuming starts it afresh
                self._finish(training, CANCELLED, "cancelled")
            self._notify()
        self._generation_changed.set()  # a paused training wakes up to stop
        return training

    def events_since(
        self, training: Training, start: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """Events of `training` from index `start` and whether it has ended."""
        with self._lock:
            return training.events[start:], training.state in FINISHED

    def close(self, timeout: float = 30.0) -> None:
        """Cancel waiting trainings, stop the running one after its step, end the worker."""
        with self._lock:
            self._closed = True
            while self._queue:
                training = self._queue.popleft()
                training.resumable = True
                self._finish(training, CANCELLED, "cancelled: the engine is shutting down")
            if self._running is not None:
                self._running.cancel_requested = True
            self._notify()
        self._generation_changed.set()
        if self._worker.is_alive():
            self._worker.join(timeout)

    # ----- the worker -----

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                training = self._queue.popleft()
                training.state = RUNNING
                self._running = training
                self._emit(training, "state", training.status())
            self._run(training)

    def _run(self, training: Training) -> None:
        model_dir = training.folder / MODEL_FOLDER
        try:
            options = TrainOptions(
                data_dir=training.folder / DRAWINGS_FOLDER,
                out=model_dir,
                from_dir=self.store.resolve(training.source),
                stage="both" if "upscaler" in training.stages else "diffusion",
                steps=training.steps,
                upscaler_steps=training.steps,
            )
            self._train(options, self._between_steps(training))
            installed = self.store.install(model_dir, training.name, self._provenance(training))
        except Cancelled:
            state, error = CANCELLED, "cancelled: the partial model is kept; resume to go on"
        except EngineError as exc:
            state, error = FAILED, one_line(exc)
        except Exception as exc:  # a bug fails this training only, never the worker
            log.exception("training %s failed", training.id)
            state, error = FAILED, one_line(f"internal error: {type(exc).__name__}: {exc}")
        else:
            state, error = DONE, None
            shutil.rmtree(training.folder, ignore_errors=True)  # the drawings' copy is not needed
            log.info("training %s done: model %s", training.id, installed)
        with self._lock:
            if state == DONE:
                training.model, training.step, training.eta_s = training.name, training.total, 0.0
            else:
                training.resumable = (model_dir / "checkpoint").is_dir() or state == CANCELLED
            training.paused = False
            self._running = None
            self._finish(training, state, error)

    def _between_steps(self, training: Training) -> BetweenSteps:
        stage_index = {stage: index for index, stage in enumerate(training.stages)}
        every = max(1, training.steps // PROGRESS_EVENTS)
        last_preview = [time.monotonic()]

        def between_steps(progress: TrainingProgress, trainer: Any) -> None:
            index = stage_index.get(progress.stage, 0)
            later = len(training.stages) - 1 - index
            seconds_per_step = progress.eta_s / max(1, progress.total - progress.step)
            later_s = later * training.steps * seconds_per_step * UPSCALER_STEP_COST
            with self._lock:
                training.stage = progress.stage
                training.step = index * training.steps + progress.step
                training.loss = round(progress.loss, 5)
                training.images_per_s = round(progress.images_per_s, 1)
                training.eta_s = round(progress.eta_s + later_s, 1)
                if progress.step % every == 0 or progress.step == progress.total:
                    self._emit(training, "progress", _progress_data(training))
            self._maybe_preview(training, progress, trainer, last_preview)
            self._wait_for_generation(training)

        return between_steps

    def _maybe_preview(
        self, training: Training, progress: TrainingProgress, trainer: Any, last: list[float]
    ) -> None:
        if progress.stage != "diffusion":
            return
        due = time.monotonic() - last[0] >= self._preview_seconds
        if not (due or progress.step == progress.total):
            return
        try:
            preview = self._preview or _default_preview()
            pngs = preview(trainer, training.folder / DRAWINGS_FOLDER)
        except Exception:  # a preview is a nicety: the training goes on without it
            log.exception("preview of training %s failed", training.id)
            return
        last[0] = time.monotonic()
        images = [base64.b64encode(png).decode("ascii") for png in pngs]
        with self._lock:
            self._emit(training, "preview", {"step": training.step, "images": images})

    def _wait_for_generation(self, training: Training) -> None:
        """Between two steps: stop if cancelled; wait while generation jobs run or wait."""
        while True:
            self._generation_changed.clear()
            if training.cancel_requested or self._closed:
                raise Cancelled()
            busy = self._generation_busy()
            if busy != training.paused:
                with self._lock:
                    training.paused = busy
                    self._emit(training, "state", training.status())
            if not busy:
                return
            self._generation_changed.wait(1.0)

    # ----- bookkeeping (callers hold the lock) -----

    def _check_room(self, name: str) -> None:
        if self._closed:
            raise QueueClosed("the engine is shutting down")
        if len(self._queue) >= MAX_QUEUED:
            raise QueueFull(f"{MAX_QUEUED} trainings are waiting already: retry later")
        active = [t.name for t in self._trainings.values() if t.state not in FINISHED]
        taken = next((n for n in active if same_name(n, name)), None) or self.store.taken(name)
        if taken is not None:
            raise NameTaken(
                f"a model named {taken!r} exists or is being trained: pick another name"
            )

    def _write_drawings(self, folder: Path, drawings: list[bytes]) -> None:
        folder.mkdir(parents=True, exist_ok=False)
        width = len(str(len(drawings)))
        for number, data in enumerate(drawings, start=1):
            (folder / f"{number:0{width}d}.png").write_bytes(data)

    def _add(self, training: Training) -> None:
        self._trainings[training.id] = training
        self._queue.append(training)
        self._emit(training, "state", training.status())

    def _provenance(self, training: Training) -> dict[str, Any]:
        return {
            "name": training.name,
            "from": training.source,
            "drawings": training.drawings,
            "steps_per_stage": training.steps,
            "stages": list(training.stages),
            "trained_by": "engine training jobs (POST /v1/trainings)",
        }

    def _finish(self, training: Training, state: str, error: str | None) -> None:
        training.state, training.error = state, error
        self._emit(training, "state", training.status())
        self._finished.append(training.id)
        while len(self._finished) > self._history:
            forgotten = self._trainings.pop(self._finished.popleft())
            if forgotten.resumable:  # nobody can resume it any more: its checkpoint goes too
                shutil.rmtree(forgotten.folder, ignore_errors=True)

    def _emit(self, training: Training, name: str, data: dict[str, Any]) -> None:
        training.events.append((name, data))
        self._notify()

    def _notify(self) -> None:
        self._changed.notify_all()
        for listener in self._listeners:
            listener()


class NameTaken(EngineError):
    """A model or a running training has this name already."""


def _progress_data(training: Training) -> dict[str, Any]:
    keys = ("stage", "step", "total", "loss", "images_per_s", "eta_s")
    return {key: training.status()[key] for key in keys}


def _default_preview() -> PreviewFunction:
    from engine.teach import preview_pngs

    return preview_pngs
