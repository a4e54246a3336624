"""An artist's own folder of drawings as training data: fitted to the model's size, sketched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.data.strokes import sketch_from_drawing
from engine.errors import EngineError
from engine.images import flattened_bytes, read_image

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def drawing_files(path: Path) -> list[Path]:
    """The drawings of a folder, sorted; EngineError if there is no such folder or none in it."""
    path = Path(path)
    if not path.is_dir():
        raise EngineError(f"drawings folder {path} does not exist or is not a folder")
    files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() in EXTENSIONS)
    if not files:
        raise EngineError(f"no drawings in {path}: put {', '.join(EXTENSIONS)} files there")
    return files


def load_folder(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Load every drawing in a folder: drawings and sketches, both (N, size, size, 3) uint8."""
    # Decoded for the size they are fitted to: an 8192 px drawing takes 576 MB, not gigabytes.
    files = drawing_files(path)
    drawings = np.stack([fit_on_white(read_image(file, reduce_to=size), size) for file in files])
    sketches = np.stack([sketch_from_drawing(drawing) for drawing in drawings])
    return drawings, sketches


def fit_on_white(rgba: np.ndarray, size: int) -> np.ndarray:
    """Flatten RGBA on white and scale it into a size x size white square, centred, aspect kept."""
    rgb = Image.fromarray(flattened_bytes(rgba))
    scale = size / max(rgb.size)
    width, height = (max(1, round(side * scale)) for side in rgb.size)
    square = Image.new("RGB", (size, size), (255, 255, 255))
    square.paste(
        rgb.resize((width, height), Image.Resampling.LANCZOS),
        ((size - width) // 2, (size - height) // 2),
    )
    return np.asarray(square)
