"""The defects an artist sees at 100 % that realism's KID barely moves for, as figures.

Each variant is compared with the finished drawing its sketch was made from, in the same frame
and at the layer's own pixels (a thumbnail's resampling would decide how dark a line looks):
- line weight: the variants' share of dark (line-ink) pixels over their drawings'; 1 is as heavy
  as drawn.
- colour spill: the chroma a variant paints where its drawing is white paper near its paint
  (the eye white and just around the eye): washes and drips below the iris.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.diffusion.masks import dilate
from engine.images import LUMA_WEIGHTS

DARK = 0.35  # luminance below which a pixel is line ink
PAPER = 0.96  # every channel above this: white paper
# Paper 2 to 12 pixels from the drawing's paint, on the frame at 128 px, counts: nearer, a line
# a pixel off would count as spill; farther is the empty frame, white in every variant.
MASK_SIDE = 128
EDGE_CLEARANCE = 2
NEARBY = 12


@dataclass(frozen=True)
class SketchDefects:
    """One sketch's figures: its variants' and its drawing's dark shares, the variants' spill."""

    dark_share: float
    drawing_dark_share: float
    colour_spill: float


def sketch_defects(variants: np.ndarray, drawing: np.ndarray) -> SketchDefects:
    """Figures of one sketch's variants (N, S, S, 3) against its drawing (S, S, 3), float in
    [0, 1] on white, in the same frame."""
    paper = _paper_near_paint(drawing.min(axis=-1) <= PAPER)
    chroma = variants.max(axis=-1) - variants.min(axis=-1)
    return SketchDefects(
        dark_share=_dark_share(variants),
        drawing_dark_share=_dark_share(drawing),
        colour_spill=float(chroma[:, paper].mean()) if paper.any() else 0.0,
    )


def summarised(sketches: list[SketchDefects]) -> dict[str, float]:
    """Line weight (the variants' dark pixels over their drawings') and mean colour spill."""
    drawn = float(np.mean([sketch.drawing_dark_share for sketch in sketches]))
    return {
        "line_weight": float(np.mean([s.dark_share for s in sketches]) / max(drawn, 1e-9)),
        "colour_spill": float(np.mean([sketch.colour_spill for sketch in sketches])),
    }


def _paper_near_paint(paint: np.ndarray) -> np.ndarray:
    """Where paint (S, S) bool is absent but near, found on a MASK_SIDE copy: (S, S) bool."""
    side = paint.shape[0]
    small = Image.fromarray(paint.astype(np.uint8) * 255).resize(
        (MASK_SIDE, MASK_SIDE), Image.Resampling.BOX
    )
    coarse = np.asarray(small) > 0
    near = dilate(coarse, NEARBY) & ~dilate(coarse, EDGE_CLEARANCE)
    full = Image.fromarray(near.astype(np.uint8) * 255).resize(
        (side, side), Image.Resampling.NEAREST
    )
    return (np.asarray(full) > 0) & ~paint


def _dark_share(images: np.ndarray) -> float:
    return float((images @ np.asarray(LUMA_WEIGHTS, np.float32) < DARK).mean())
