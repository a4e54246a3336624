"""Finding the ink of a drawing: its dark lines and the outlines of its coloured regions."""

from __future__ import annotations

import numpy as np

from engine.images import LUMA_WEIGHTS

DARK = 0.6  # luminance below which a pixel is ink (a 1 px anti-aliased grey line reaches ~0.45)
EDGE = 0.2  # colour step to a neighbour, on the 0..1 scale, that makes an outline
SKETCH_GREY = 60  # the grey of the lines `sketch_from_drawing` draws


def extract_strokes(rgb: np.ndarray) -> np.ndarray:
    """Bool (H, W) mask of ink: dark pixels, plus the darker side of strong colour edges."""
    image = np.asarray(rgb)
    image = (
        image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    )
    luminance = image @ np.array(LUMA_WEIGHTS, np.float32)
    ink = luminance < DARK
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    padded_luminance = np.pad(luminance, 1, mode="edge")
    height, width = luminance.shape
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        neighbour = padded[dy : dy + height, dx : dx + width]
        step = np.abs(image - neighbour).max(axis=2)
        # Only the darker side of an edge is ink, so a region's outline is one pixel wide
        # and a dark line does not grow a halo from its own edges.
        darker = luminance < padded_luminance[dy : dy + height, dx : dx + width]
        ink |= (step > EDGE) & darker
    return ink


def sketch_from_drawing(rgb: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 sketch of a drawing: its extracted strokes as grey lines on white."""
    ink = extract_strokes(rgb)
    sketch = np.where(ink, np.uint8(SKETCH_GREY), np.uint8(255))
    return np.repeat(sketch[..., None], 3, axis=2)
