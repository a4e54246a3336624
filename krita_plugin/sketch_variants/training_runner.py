"""Teaching the engine the artist's drawings: gather, encode off the main thread, follow, cancel.

The drawings come from layers (read on Krita's main thread by the host) or a folder (read with
QImage on a worker thread); every network call is asynchronous, so Krita stays responsive.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .client import EngineClient, EventStream, Failure
from .events import Event, Preview, Progress, StateChange
from .host import Host
from .qt import QBuffer, QByteArray, QImage, QIODevice, QObject, Qt, Signal, readable_suffixes
from .values import Sketch
from .worker import Worker

# Lengths offered in the docker: steps of each stage, and what they take on an idle 2-core CPU
# (`python -m engine measure-teaching`: 300 steps of both stages took 2.8 minutes there, and 14 on
# a machine busy with other work; four times the steps take about four times as long).
LENGTHS = {"quick": 300, "thorough": 1200}
LENGTH_LABELS = {"quick": "Quick (about 3 minutes)", "thorough": "Thorough (about 12 minutes)"}
SOURCES = ("selected layers", "every layer", "folder")
MAX_SIDE = 1024  # drawings are sent at most this large: the upsampler trains at up to 1024 px
MAX_BODY = 30 * 1024 * 1024  # under the engine's 32 MB request limit
FOLDER_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class TrainingState:
    """What the training part of the docker shows."""

    running: bool = False
    step: int = 0
    total: int = 0
    eta_s: float | None = None
    connecting: bool = False  # the drawings wait for the engine to start or answer
    paused: bool = False  # the engine is making variants; training goes on after
    message: str = ""  # the last thing the artist should know, with what to do next
    previews: tuple[bytes, ...] = ()  # PNGs of the latest preview
    model: str = ""  # the model made by the last finished training


def qimage_png(image: QImage) -> bytes:
    """PNG bytes of an image shrunk to at most MAX_SIDE (QImage is safe on a worker thread)."""
    if max(image.width(), image.height()) > MAX_SIDE:
        image = image.scaled(
            MAX_SIDE,
            MAX_SIDE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def sketch_drawing_png(sketch: Sketch) -> bytes:
    """A layer's pixels (Krita's B, G, R, A order = QImage's ARGB32 in memory) as a PNG."""
    box = sketch.box
    image = QImage(sketch.bgra, box.width, box.height, box.width * 4, QImage.Format.Format_ARGB32)
    return qimage_png(image.copy())  # copy: the QImage must not outlive the bytes it points to


def folder_drawing_pngs(folder: str) -> list[bytes]:
    """The drawings of a folder as PNGs; unreadable files are skipped, but not all of them."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in FOLDER_SUFFIXES)
    readable = readable_suffixes()
    images = (QImage(str(path)) for path in files if path.suffix.lower() in readable)
    pngs = [qimage_png(image) for image in images if not image.isNull()]
    unreadable = sorted({path.suffix.lower() for path in files} - readable)
    if not pngs and unreadable:
        # Each Krita build ships its own image format plugins (WebP, say, is not in every one).
        raise ValueError(
            f"this Krita cannot read {', '.join(unreadable)} images: save the drawings as PNG"
        )
    return pngs


def training_body(name: str, steps: int, pngs: list[bytes]) -> bytes:
    """The POST /v1/trainings body; ValueError with what to do when it cannot be sent."""
    # How many are enough is the engine's to say; none at all is a slip of the artist's.
    if not pngs:
        raise ValueError("no drawings found: select the layers or the folder with your drawings")
    drawings = [base64.b64encode(png).decode("ascii") for png in pngs]
    body = json.dumps({"name": name, "drawings": drawings, "steps": steps}).encode("utf-8")
    if len(body) > MAX_BODY:
        raise ValueError(
            f"the drawings take {len(body) / 2**20:.0f} MB together, more than the engine takes "
            "at once: use fewer drawings"
        )
    return body


class TrainingRunner(QObject):
    """Runs one training on the engine; `changed` fires whenever `state` is replaced."""

    changed = Signal()
    model_ready = Signal(str)  # a training finished: its model is in the engine's list

    def __init__(
        self,
        client: EngineClient,
        worker: Worker,
        host: Host,
        ready: Callable[[], bool],
        lost: Callable[[Failure], None],
    ) -> None:
        """`ready()` says whether the engine takes work (and starts connecting when not); the
        owner calls `resume()` once it does. `lost` reports an engine gone or refusing us."""
        super().__init__(client)
        self.client = client
        self.worker = worker
        self.host = host
        self.state = TrainingState()
        self.training_id = ""
        self._ready, self._lost = ready, lost
        self._body: bytes | None = None  # the prepared request, held until the engine is ready
        self._stream: EventStream | None = None

    def start(self, source: str, name: str, length: str, folder: str = "") -> None:
        """Gather the drawings from `source` (one of SOURCES) and start training `name`."""
        if self.state.running:
            return
        name = name.strip()
        if not name:
            self._update(message="Give the new model a name first.")
            return
        steps = LENGTHS[length]
        self._update(running=True, step=0, total=0, eta_s=None, previews=(), message="")
        if source == "folder":
            work = lambda: training_body(name, steps, folder_drawing_pngs(folder))  # noqa: E731
        else:
            found, _ = (
                self.host.selected_sketches()
                if source == "selected layers"
                else self.host.document_sketches()
            )
            sketches = [sketch for _, sketch in found]
            work = lambda: training_body(  # noqa: E731
                name, steps, [sketch_drawing_png(sketch) for sketch in sketches]
            )
        self._update(message="Preparing the drawings…")
        self.worker.run(work, self._prepared, self._not_prepared)

    def resume(self) -> None:
        """The engine is ready: send a training that waited for it."""
        if self._body is not None and self._ready():
            body, self._body = self._body, None
            self._update(connecting=False, message="Sending the drawings…")
            self.client.post_json("/v1/trainings", body, self._accepted, self._refused)

    def cancel(self) -> None:
        """Cancel the running training; the engine keeps its checkpoint."""
        if self.training_id:
            self.client.cancel(self.training_id, kind="trainings")
            self._update(message="Cancelling…")
        elif self.state.running:
            self._end("Cancelled.")

    def stop(self, message: str) -> None:
        """End the training now with `message`, cancelling it on the engine if it runs there."""
        if self.training_id:
            self.client.cancel(self.training_id, kind="trainings")
        if self.state.running:
            self._end(message)

    def engine_gone(self, message: str) -> None:
        """The connection found no engine: a training waiting for one, or followed, ends."""
        if not self.state.running:
            return
        if self.training_id:
            message = "Lost the engine while training: click Start, then train again."
        self._end(message)

    def _not_prepared(self, error: BaseException) -> None:
        if isinstance(error, ValueError):
            self._end(f"Cannot train: {error}.")
        else:
            self._end(f"Could not read the drawings ({type(error).__name__}: {error}).")

    def _prepared(self, body: bytes) -> None:
        if not self.state.running:
            return  # cancelled while the drawings were prepared
        self._body = body
        self._update(connecting=True, message="Connecting to the engine…")
        self.resume()  # at once when connected; else the owner resumes it once connected

    def _refused(self, failure: Failure) -> None:
        if failure.lost:
            self._lost(failure)  # the connection reports it, which ends this training
        else:
            self._end(f"The engine refused the training: {failure.message}.")

    def _accepted(self, answer: dict[str, Any]) -> None:
        training_id = str(answer.get("id", ""))
        if not self.state.running:  # cancelled while the drawings were on their way
            self.client.cancel(training_id, kind="trainings")
            return
        self.training_id = training_id
        self._update(message="Training…", total=int(answer.get("total") or 0))
        self._stream = self.client.events(
            self.training_id, self._event, self._stream_failed, kind="trainings"
        )

    def _event(self, event: Event) -> None:
        if isinstance(event, Progress):
            self._update(step=event.step, total=event.total, eta_s=event.eta_s)
        elif isinstance(event, Preview):
            self._update(previews=event.images)
        elif isinstance(event, StateChange):
            self._update(paused=event.paused)
            if event.final:
                self._stream = None
                self._finished(event)

    def _finished(self, event: StateChange) -> None:
        if event.state == "done":
            self._update(model=event.model)
            self._end(f"Model '{event.model}' is ready: pick it in the model list.")
            self.model_ready.emit(event.model)
        elif event.state == "cancelled":
            self._end("Training cancelled; the engine kept what it learnt so far.")
        else:
            self._end(f"Training failed: {event.error or 'no reason given'}.")

    def _stream_failed(self, failure: Failure) -> None:
        self._stream = None
        if failure.lost:
            self._lost(failure)  # the connection reports it, which ends this training
        else:
            self._end(f"Lost track of the training ({failure.message}): train again.")

    def _end(self, message: str) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        self.training_id = ""
        self._body = None
        self._update(running=False, connecting=False, paused=False, message=message)

    def _update(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        self.changed.emit()
