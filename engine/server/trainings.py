"""Trainings, the other payload of the server's work queue: one at a time, paused whenever a
generation job wants the CPU.

A training's drawings are written into its own folder under the engine's data folder and trained
on with the function of `python -m engine train DATA_DIR` (engine.training). When it is done the
model moves to the model folder under its name; a cancelled one keeps its checkpoint to resume.
"""

from __future__ import annotations

import base64
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from engine.errors import Cancelled, EngineError
from engine.models_store import TRAINING_ROOM, ModelStore, check_model_name, same_name
from engine.progress import TrainingProgress
from engine.server.training_records import (
    read_records,
    record_owner,
    restored_state,
    write_record,
)
from engine.server.uploads import Uploaded
from engine.server.work import (
    FINISHED,
    SHUTDOWN_MESSAGE,
    Conflict,
    State,
    WorkItem,
    WorkQueue,
)
from engine.training import TrainOptions, train_model
from engine.weights import has_upscaler

log = logging.getLogger("engine.server")

DEFAULT_STEPS = 300  # the "quick" length: 2.8 minutes for both stages on an idle 2-core CPU
PROGRESS_EVENTS = 200  # progress events per stage at most, so a long training's history is small
# An upsampler step costs this share of a diffusion step on the same CPU (the shipped stages: 0.28 s
# per upsampler step, 37.1 min for 8,000; 0.75 s per diffusion step at bench's 42.4 images/s);
# the ETA counts the stage still to come with it.
UPSCALER_STEP_COST = 0.37
# Steps between a training's checkpoints: a crash or kill -9 loses at most this many (~40 s of
# the shipped model's steps); writing one takes ~0.5 s.
CHECKPOINT_EVERY = 50
DRAWINGS_FOLDER = "drawings"
MODEL_FOLDER = "model"


@dataclass(eq=False)
class Training(WorkItem):
    """One training: what was asked and where it stands."""

    noun: ClassVar[str] = "training"
    inputs: ClassVar[str] = "drawings"

    name: str
    source: str  # the model it starts from
    steps: int  # steps of each stage
    drawings: int
    folder: Path = field(repr=False)
    stages: tuple[str, ...] = ("diffusion",)
    stage: str = "diffusion"
    step: int = 0  # over both stages
    total: int = 0
    loss: float | None = None
    images_per_s: float | None = None
    eta_s: float | None = None
    paused: bool = False  # waiting for generation jobs to finish
    model: str | None = None  # the finished model's name
    resumable: bool = False  # cancelled or failed with a checkpoint to go on from
    created: float = field(default_factory=time.time, repr=False, kw_only=True)  # Unix time
    cancel_reason: str = field(
        default="cancelled: the partial model is kept; resume to go on", kw_only=True
    )

    def __post_init__(self) -> None:
        self.total = self.steps * len(self.stages)

    def status(self) -> dict[str, Any]:
        """The training's public state as JSON-ready values."""
        return {
            "id": self.id,
            "name": self.name,
            "from": self.source,
            "drawings": self.drawings,
            "state": self.state.value,
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

    def ended(self, state: State, result: Any) -> None:
        """Done: the model is listed; otherwise resumable from a checkpoint or from the start."""
        if state == State.DONE:
            self.model, self.step, self.eta_s = self.name, self.total, 0.0
        else:
            checkpoint = self.folder / MODEL_FOLDER / "checkpoint"
            self.resumable = state == State.CANCELLED or checkpoint.is_dir()
            # Stopped by a shutdown, its record keeps it queued or running: a restart goes on.
            if self.error != SHUTDOWN_MESSAGE and self.folder.is_dir():
                self.save()
        self.paused = False

    def save(self) -> None:
        """Write what the training is and where it stands into its folder (training_records)."""
        fields = {key: self.status()[key] for key in RECORDED}
        extra = {"stages": list(self.stages), "steps": self.steps, "created": self.created}
        write_record(self.folder, {**fields, **extra})

    @classmethod
    def from_record(cls, folder: Path, record: dict[str, Any]) -> Training:
        """The training a record describes, as a restarted server lists it."""
        training = cls(
            record["name"],
            record["from"],
            record["steps"],
            record["drawings"],
            folder,
            tuple(record["stages"]),
            id=record["id"],
            state=restored_state(record),
            error=record["error"],
            created=record["created"],
        )
        training.step = record["step"] if training.state in FINISHED else 0
        training.resumable = record["resumable"]
        return training

    def forgotten(self) -> None:
        """Nobody can resume it any more: its drawings and checkpoint go too, unless the folder
        is a later training's now (one resumed from it, which its record names)."""
        if record_owner(self.folder) == self.id:
            shutil.rmtree(self.folder, ignore_errors=True)


# The status fields a training's record keeps (with its stages and steps of each stage).
RECORDED = ("id", "name", "from", "drawings", "state", "step", "error", "resumable")


class NameTaken(Conflict):
    """A model or a running training has this name already."""


TrainingQueue = WorkQueue[Training]
# Variants of the preview sketch by a stage-1 trainer: PNG bytes each.
PreviewFunction = Callable[[Any, Path], list[bytes]]
# Told after every step of a run: its progress and a preview's PNGs when one was due (else None).
# It may raise Cancelled to stop the run there; the stage then keeps a checkpoint.
StepReport = Callable[[TrainingProgress, list[bytes] | None], None]


@dataclass(frozen=True)
class Previews:
    """How a training's previews are made, on the side that holds its trainer."""

    seconds: float  # a preview at most this often, and one at the end of stage 1
    drawings: Path  # the folder of the drawings whose first sketch the previews draw on
    make: PreviewFunction | None = None  # None: engine.teach.preview_pngs


def train_with_previews(options: TrainOptions, previews: Previews, after_step: StepReport) -> None:
    """Train the options' stages (engine.training.train_model), telling `after_step` each step's
    progress and, when due, a preview of the model being trained."""
    last_preview = time.monotonic()

    def between_steps(progress: TrainingProgress, trainer: Any) -> None:
        nonlocal last_preview
        pngs = None
        due = time.monotonic() - last_preview >= previews.seconds
        if progress.stage == "diffusion" and (due or progress.step == progress.total):
            try:
                make = previews.make or _default_preview()
                pngs = make(trainer, previews.drawings)
                last_preview = time.monotonic()
            except Exception:  # a preview is a nicety: the training goes on without it
                log.exception("a preview of the training into %s failed", options.out)
        after_step(progress, pngs)

    train_model(options, between_steps)


class Lesson:
    """One training as the code running its stages sees it: what to train, how its previews are
    made, where each step is reported and whether it is to stop."""

    def __init__(
        self, teacher: Teacher, training: Training, queue: TrainingQueue, options: TrainOptions
    ) -> None:
        self.options = options
        drawings = training.folder / DRAWINGS_FOLDER
        self.previews = Previews(teacher.preview_seconds, drawings, teacher.preview)
        self._teacher = teacher
        self._training = training
        self._queue = queue
        self._stage_index = {stage: index for index, stage in enumerate(training.stages)}
        self._every = max(1, training.steps // PROGRESS_EVENTS)

    @property
    def name(self) -> str:
        """The training's id, for log lines."""
        return self._training.id

    def should_stop(self) -> bool:
        """Whether the run is to stop at its next step (cancelled, or the server closing)."""
        return self._queue.should_stop(self._training)

    def report(self, progress: TrainingProgress, pngs: list[bytes] | None) -> None:
        """A step is done: the training's state and its progress and preview events."""
        training, queue = self._training, self._queue
        index = self._stage_index.get(progress.stage, 0)
        later = len(training.stages) - 1 - index
        seconds_per_step = progress.eta_s / max(1, progress.total - progress.step)
        later_s = later * training.steps * seconds_per_step * UPSCALER_STEP_COST
        with queue.locked():
            training.stage = progress.stage
            training.step = index * training.steps + progress.step
            training.loss = round(progress.loss, 5)
            training.images_per_s = round(progress.images_per_s, 1)
            training.eta_s = round(progress.eta_s + later_s, 1)
            if progress.step % self._every == 0 or progress.step == progress.total:
                queue.emit(training, "progress", _progress_data(training))
        if pngs is not None:
            images = [base64.b64encode(png).decode("ascii") for png in pngs]
            queue.emit(training, "preview", {"step": training.step, "images": images})

    def step_here(self, progress: TrainingProgress, pngs: list[bytes] | None) -> None:
        """report(), then, since this process also runs the jobs, wait while generation jobs
        run or wait; Cancelled if the run is to stop."""
        self.report(progress, pngs)
        self._teacher.wait_for_generation(self._training, self._queue)


# Runs a lesson's stages and returns once they are trained; Cancelled when it stopped for
# lesson.should_stop(), EngineError for a one-line failure. train_here runs them in the server's
# process; a studio's gateway injects one that runs them on a cluster's node.
TrainRunner = Callable[[Lesson], None]


def train_here(lesson: Lesson) -> None:
    """Train in this process, between generation jobs (which pause the training)."""
    train_with_previews(lesson.options, lesson.previews, lesson.step_here)


class Teacher:
    """What runs trainings: both stages on a training's drawings (by a TrainRunner), and the
    finished model installed in the store."""

    def __init__(
        self,
        store: ModelStore,
        generation_busy: Callable[[], bool],
        run: TrainRunner = train_here,
        preview: PreviewFunction | None = None,
        preview_seconds: float = 30.0,
    ) -> None:
        """generation_busy: True while generation jobs run or wait (a training in this process
        then pauses); make wake() a listener of every queue that changes it."""
        self.store = store
        self._generation_busy = generation_busy
        self._run = run  # TensorFlow loads with the first training only
        self.preview = preview
        self.preview_seconds = preview_seconds  # a preview at most this often
        self._changed = threading.Event()

    def wake(self) -> None:
        """Something changed (a job queued or ended, a cancel): a paused training re-checks."""
        self._changed.set()

    def __call__(self, training: Training, queue: TrainingQueue) -> Path:
        """Train `training` and install its model; the model's folder."""
        model_dir = training.folder / MODEL_FOLDER
        options = TrainOptions(
            data_dir=training.folder / DRAWINGS_FOLDER,
            out=model_dir,
            from_dir=self.store.resolve(training.source),
            stage="both" if "upscaler" in training.stages else "diffusion",
            steps=training.steps,
            upscaler_steps=training.steps,
            checkpoint_every=CHECKPOINT_EVERY,
        )
        training.save()  # running: after a restart it waits again and goes on
        try:
            self._run(Lesson(self, training, queue, options))
        except Cancelled:
            if queue.closed:  # not the artist's cancel: the record stays running
                training.cancel_reason = SHUTDOWN_MESSAGE
            raise
        installed = self.store.install(model_dir, training.name, _provenance(training))
        shutil.rmtree(training.folder, ignore_errors=True)  # the drawings' copy is not needed
        log.info("training %s done: model %s", training.id, installed)
        return installed

    def wait_for_generation(self, training: Training, queue: TrainingQueue) -> None:
        """Between two steps: stop if cancelled; wait while generation jobs run or wait."""
        while True:
            self._changed.clear()
            if queue.should_stop(training):
                raise Cancelled()
            busy = self._generation_busy()
            if busy != training.paused:
                with queue.locked():
                    training.paused = busy
                    queue.emit(training, "state", training.status())
            if not busy:
                return
            self._changed.wait(1.0)


def submit_training(
    queue: TrainingQueue,
    store: ModelStore,
    name: str,
    source: str,
    steps: int,
    drawings: list[bytes] | Uploaded,
    steps_range: tuple[int, int],
) -> Training:
    """Queue a training on checked drawings, sent or uploaded before (its folder becomes the
    training's); EngineError, QueueFull or QueueClosed if not.

    steps: of each stage, within steps_range.
    """
    sent: list[bytes] | None = None if isinstance(drawings, Uploaded) else drawings
    if isinstance(drawings, Uploaded):
        count, upload_id = drawings.count, drawings.upload_id
    else:
        count, upload_id = len(drawings), None
    training = check_training(queue, store, name, source, steps, count, steps_range, upload_id)

    def admit() -> None:
        # The name, the room and the disk first: nothing is written for a refused training.
        _check_name(queue, store, name)
        queue.check_room(training)
        if sent is not None:
            store.check_disk(sum(map(len, sent)) + TRAINING_ROOM)
            _write_drawings(training.folder / DRAWINGS_FOLDER, sent)
        else:  # the drawings are on disk already, counted in the budget
            store.check_disk(TRAINING_ROOM)
        training.save()

    return queue.submit(training, admit)


def check_training(
    queue: TrainingQueue,
    store: ModelStore,
    name: str,
    source: str,
    steps: int,
    drawings: int,
    steps_range: tuple[int, int],
    training_id: str | None = None,
) -> Training:
    """The training a submission would queue, checked without reading a drawing (name, `from`,
    steps, room in the queue): EngineError, NameTaken or QueueFull if it would be refused.

    training_id: an upload's, whose folder the training takes; None: a new id."""
    check_model_name(name)
    from_dir = store.resolve(source)
    low, high = steps_range
    if not low <= steps <= high:
        raise EngineError(f"steps must be {low} to {high}, got {steps}")
    stages = ("diffusion", "upscaler") if has_upscaler(from_dir) else ("diffusion",)
    training = Training(name, source, steps, drawings, Path(), stages)
    training.id = training_id or training.id
    training.folder = store.training_dir(training.id)
    _check_name(queue, store, name)
    queue.check_room(training)
    return training


def resume_training(queue: TrainingQueue, store: ModelStore, training_id: str) -> Training | None:
    """Queue a cancelled or failed training again from its checkpoint; None if unknown."""
    with queue.locked():
        old = queue.get(training_id)
        if old is None:
            return None
        if not old.resumable:
            raise EngineError(
                f"training {old.name!r} is {old.state.value} and has nothing to resume: "
                "start a new training"
            )
        training = Training(old.name, old.source, old.steps, old.drawings, old.folder, old.stages)

        def admit() -> None:
            _check_name(queue, store, old.name)
            queue.check_room(training)
            store.check_disk(TRAINING_ROOM)
            old.resumable = False  # the new training owns the folder (and its record) from now on
            training.save()

        return queue.submit(training, admit)


def restore_trainings(queue: TrainingQueue, store: ModelStore) -> None:
    """List again every training a previous run of the server left on disk, in its state."""
    for folder, record in read_records(store):
        try:
            training = Training.from_record(folder, record)
        except (KeyError, TypeError, ValueError):
            log.warning("unreadable training record in %s", folder)
            continue
        queue.restore(training)


def _check_name(queue: TrainingQueue, store: ModelStore, name: str) -> None:
    active = [t.name for t in queue.items() if t.state not in FINISHED]
    taken = next((n for n in active if same_name(n, name)), None) or store.taken(name)
    if taken is not None:
        raise NameTaken(f"a model named {taken!r} exists or is being trained: pick another name")


def _write_drawings(folder: Path, drawings: list[bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=False)
    width = len(str(len(drawings)))
    for number, data in enumerate(drawings, start=1):
        (folder / f"{number:0{width}d}.png").write_bytes(data)


def _provenance(training: Training) -> dict[str, Any]:
    return {
        "name": training.name,
        "from": training.source,
        "drawings": training.drawings,
        "steps_per_stage": training.steps,
        "stages": list(training.stages),
        "trained_by": "engine training jobs (POST /v1/trainings)",
    }


def _progress_data(training: Training) -> dict[str, Any]:
    keys = ("stage", "step", "total", "loss", "images_per_s", "eta_s")
    return {key: training.status()[key] for key in keys}


def _default_preview() -> PreviewFunction:
    from engine.teach import preview_pngs

    return preview_pngs
