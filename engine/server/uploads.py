"""Drawings uploaded in batches before their training is submitted.

Each batch is checked like a training's drawings and written at once into a folder of its own
under the trainings folder, so a training of 2,000 drawings of a few hundred KB needs no request
over the body limit and never holds them all in memory. Submitting a training with the upload's
id makes that folder the training's (the id becomes the training's). An upload never submitted
is a folder without a record: the next start after a day deletes it (training_records).
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from engine.errors import EngineError
from engine.models_store import ModelStore
from engine.server.training_records import RECORD_FILE

DRAWINGS_FOLDER = "drawings"  # as in a training's folder (engine.server.trainings)
_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Uploaded:
    """The drawings of an upload, already on disk, as a training's submission names them."""

    upload_id: str
    count: int


class UnknownUpload(EngineError):
    """No upload has this id (or it became a training)."""


class Uploads:
    """Upload folders in a store: created, filled batch by batch, then taken by a training."""

    def __init__(self, store: ModelStore, most: int) -> None:
        """most: drawings an upload may hold (a training's most)."""
        self.store = store
        self.most = most
        self._lock = threading.Lock()  # one batch written at a time: numbering stays in order

    def create(self) -> str:
        """A new, empty upload's id."""
        upload_id = uuid.uuid4().hex
        (self.store.training_dir(upload_id) / DRAWINGS_FOLDER).mkdir(parents=True)
        return upload_id

    def count(self, upload_id: str) -> int:
        """Drawings the upload holds; UnknownUpload if there is no such upload."""
        return len(list(self._drawings(upload_id).iterdir()))

    def room(self, upload_id: str) -> int:
        """How many more drawings the upload takes."""
        return self.most - self.count(upload_id)

    def add(self, upload_id: str, pngs: list[bytes]) -> int:
        """Write checked drawings into the upload; its new count. EngineError past `most`."""
        with self._lock:
            folder = self._drawings(upload_id)
            held = len(list(folder.iterdir()))
            if held + len(pngs) > self.most:
                raise EngineError(
                    f"the upload holds {held} drawings and takes {self.most} at most: "
                    f"send {self.most - held} more at most"
                )
            for number, png in enumerate(pngs, start=held + 1):
                (folder / f"{number:05d}.png").write_bytes(png)
            return held + len(pngs)

    def _drawings(self, upload_id: str) -> Path:
        folder = self.store.training_dir(upload_id) / DRAWINGS_FOLDER
        taken = (folder.parent / RECORD_FILE).exists()  # a training's now
        if not _ID.fullmatch(upload_id) or not folder.is_dir() or taken:
            raise UnknownUpload(f"unknown upload {upload_id[:40]!r}: create one first")
        return folder
