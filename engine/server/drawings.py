"""The drawings of a training upload, checked cheapest first: their count, then each one's base64
and PNG header (size and chunk checksums, no pixel inflated), then the disk they will take, and
only then whether each has lines, decoded for the model's size within the process's decode budget
(engine.images.DECODES), so that concurrent uploads of huge drawings wait instead of piling up.
"""

from __future__ import annotations

import base64
import binascii

from engine.data.folder import fit_on_white
from engine.data.strokes import extract_strokes
from engine.errors import EngineError
from engine.images import decode_image
from engine.models_store import TRAINING_ROOM, ModelStore
from engine.server.payload import PNG_SIGNATURE, check_png

CHECK_SIZE = 64  # a drawing is checked for lines at the model's size, where it is trained


def checked_drawings(
    drawings: list[str], count_range: tuple[int, int], store: ModelStore
) -> list[bytes]:
    """The drawings as checked PNG bytes; EngineError naming the first bad one, DiskFull if
    they and their training would not fit the store's disk budget."""
    check_count(len(drawings), count_range)
    pngs = [_png(text, f"drawing {number}") for number, text in enumerate(drawings, start=1)]
    store.check_disk(sum(map(len, pngs)) + TRAINING_ROOM)
    for number, png in enumerate(pngs, start=1):
        if not has_lines(png, f"drawing {number}"):
            raise EngineError(f"drawing {number} is empty: every drawing needs visible lines on it")
    return pngs


def check_count(count: int, count_range: tuple[int, int]) -> None:
    """EngineError if a training (or a batch of an upload) would have too few or too many."""
    low, high = count_range
    if count < low:
        raise EngineError(f"{count} drawings are too few: send at least {low} finished drawings")
    if count > high:
        raise EngineError(f"{count} drawings are too many: send at most {high}")


def has_lines(png: bytes, name: str) -> bool:
    """Whether a drawing has any line or colour edge once fitted to the model's size."""
    drawing = fit_on_white(decode_image(png, name, ("PNG",), reduce_to=CHECK_SIZE), CHECK_SIZE)
    return bool(extract_strokes(drawing).any())


def _png(text: str, name: str) -> bytes:
    try:
        data = base64.b64decode("".join(str(text).split()), validate=True)
    except (binascii.Error, ValueError):
        raise EngineError(f"{name} is not valid base64: send each drawing as base64 PNG") from None
    if not data.startswith(PNG_SIGNATURE):
        raise EngineError(f"{name} is not a PNG image: export the drawings as PNG")
    return check_png(data, name).data
