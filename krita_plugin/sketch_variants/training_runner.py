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

from .client import EngineClient, Failure
from .host import Host
from .qt import QBuffer, QByteArray, QImage, QIODevice, QObject, Qt, Signal, readable_suffixes
from .sse import SseParser
from .values import Sketch
from .worker import Worker

# Lengths offered in the docker: steps of each stage, and what they take on a 2-core laptop CPU
# (300 steps of both stages: about 5 minutes, measured by `python -m engine measure-teaching`).
LENGTHS = {"quick": 300, "thorough": 1200}
LENGTH_LABELS = {"quick": "Quick (about 5 minutes)", "thorough": "Thorough (about 20 minutes)"}
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

    def __init__(self, client: EngineClient, worker: Worker, host: Host) -> None:
        super().__init__(client)
        self.client = client
        self.worker = worker
        self.host = host
        self.state = TrainingState()
        self.training_id = ""
        self._reply: Any = None
        self._parser = SseParser()
        self.on_model: Callable[[str], None] = lambda name: None  # a new model is ready

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
        self.worker.run(work, self._send, self._not_prepared)

    def cancel(self) -> None:
        """Cancel the running training; the engine keeps its checkpoint."""
        if self.training_id:
            self.client.cancel(self.training_id, kind="trainings")
            self._update(message="Cancelling…")
        elif self.state.running:
            self._end("Cancelled.")

    def _not_prepared(self, error: BaseException) -> None:
        if isinstance(error, ValueError):
            self._end(f"Cannot train: {error}.")
        else:
            self._end(f"Could not read the drawings ({type(error).__name__}: {error}).")

    def _send(self, body: bytes) -> None:
        if not self.state.running:
            return  # cancelled while the drawings were prepared
        self._update(message="Sending the drawings…")
        self.client.post_json("/v1/trainings", body, self._accepted, self._refused)

    def _refused(self, failure: Failure) -> None:
        self._end(f"The engine refused the training: {failure.message}.")

    def _accepted(self, answer: dict[str, Any]) -> None:
        self.training_id = str(answer.get("id", ""))
        self._update(message="Training…", total=int(answer.get("total") or 0))
        self._parser = SseParser()
        self._reply = self.client.open_stream(f"/v1/trainings/{self.training_id}/events")
        self._reply.readyRead.connect(self._read)
        self._reply.finished.connect(self._stream_finished)

    def _read(self) -> None:
        if self._reply is None:
            return
        for event in self._parser.feed(bytes(self._reply.readAll())):
            try:
                data = json.loads(event.data)
            except ValueError:
                continue
            self._event(event.event, data if isinstance(data, dict) else {})

    def _event(self, name: str, data: dict[str, Any]) -> None:
        if name == "progress":
            self._update(
                step=data.get("step", 0), total=data.get("total", 0), eta_s=data.get("eta_s")
            )
        elif name == "preview":
            previews = tuple(base64.b64decode(png) for png in data.get("images", ()))
            self._update(previews=previews)
        elif name == "state":
            self._update(paused=bool(data.get("paused")))
            state = data.get("state")
            if state == "done":
                model = str(data.get("model") or "")
                self._update(model=model)
                self._end(f"Model '{model}' is ready: pick it in the model list.")
                self.on_model(model)
            elif state == "cancelled":
                self._end("Training cancelled; the engine kept what it learnt so far.")
            elif state == "failed":
                self._end(f"Training failed: {data.get('error') or 'no reason given'}.")

    def _stream_finished(self) -> None:
        self._read()
        if self.state.running and self._reply is not None:
            self._end("Lost the engine while training: click Start, then train again.")

    def _end(self, message: str) -> None:
        reply, self._reply = self._reply, None
        if reply is not None:
            reply.abort()
            reply.deleteLater()
        self.training_id = ""
        self._update(running=False, paused=False, message=message)

    def _update(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        self.changed.emit()
