"""The defects an artist sees at 100 % that realism's KID barely moves for, as figures.

Each variant is compared with the finished drawing its sketch was made from, in the same frame
and at the layer's own pixels (a thumbnail's resampling would decide how dark a line looks):
- line weight: the variants' share of dark (line-ink) pixels over their drawings'; 1 is as heavy
  as drawn.
- colour spill: the chroma a variant paints where its drawing is white paper near its paint
  (the eye white and just around the eye): washes and drips below the iris.
- flat fills: the share of a picture's fill pixels (painted, lighter than line ink, away from
  edges) whose colour is flat or gently shaded, for the variants and for their drawings: cel
  shading is even areas meeting at crisp edges, where mottling and streaks change colour
  everywhere.
- dark fills: the share of the drawing's dark pixels away from its sketch's lines (solid pupils,
  lid bands: darks the sketch only outlines) that a variant paints dark too; 1 is every one.
  A ring pupil, the outline drawn and the inside painted in the iris's colour, scores low.
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
# Fills are judged on the frame at MASK_SIDE too, so a gradient over an iris counts the same on
# every layer size. A step of colour this large between neighbours is an edge (the pupil, a
# highlight, the crescent), not fill; below FLAT_STEP to every neighbour a fill is flat (the
# drawings' resampled cel shading: 0.95 of their fill pixels; at 0.01 their gentle gradients
# would count as unflat, 0.48).
EDGE_STEP = 0.12
FLAT_STEP = 0.02
# Dark fills are judged on the frame at MASK_SIDE, beyond this many pixels from the sketch's
# lines: a pupil's outline and a line a pixel off belong to the lines, its inside does not.
LINE_CLEARANCE = 1


@dataclass(frozen=True)
class SketchDefects:
    """One sketch's figures: its variants' and its drawing's dark shares, the variants' spill."""

    dark_share: float
    drawing_dark_share: float
    colour_spill: float
    flat_share: float
    drawing_flat_share: float
    dark_fill_pixels: float  # the drawing's dark pixels off the sketch's lines, at MASK_SIDE
    dark_fill_hits: float  # of those, the variants' mean count painted dark


def sketch_defects(variants: np.ndarray, drawing: np.ndarray, ink: np.ndarray) -> SketchDefects:
    """Figures of one sketch's variants (N, S, S, 3) against its drawing (S, S, 3), float in
    [0, 1] on white, and its sketch's ink (S, S) bool, in the same frame."""
    paper = _paper_near_paint(drawing.min(axis=-1) <= PAPER)
    chroma = variants.max(axis=-1) - variants.min(axis=-1)
    dark_fill = _dark(_small(drawing)) & ~dilate(_small_mask(ink), LINE_CLEARANCE)
    hits = [(_dark(_small(variant)) & dark_fill).sum() for variant in variants]
    return SketchDefects(
        dark_share=_dark_share(variants),
        drawing_dark_share=_dark_share(drawing),
        colour_spill=float(chroma[:, paper].mean()) if paper.any() else 0.0,
        flat_share=float(np.mean([flat_fill_share(variant) for variant in variants])),
        drawing_flat_share=flat_fill_share(drawing),
        dark_fill_pixels=float(dark_fill.sum()),
        dark_fill_hits=float(np.mean(hits)),
    )


def summarised(sketches: list[SketchDefects]) -> dict[str, float]:
    """Line weight (the variants' dark pixels over their drawings'), mean colour spill, and the
    variants' and the drawings' mean flat-fill shares."""
    drawn = float(np.mean([sketch.drawing_dark_share for sketch in sketches]))
    return {
        "line_weight": float(np.mean([s.dark_share for s in sketches]) / max(drawn, 1e-9)),
        "colour_spill": float(np.mean([sketch.colour_spill for sketch in sketches])),
        "flat_fills": float(np.mean([sketch.flat_share for sketch in sketches])),
        "drawings_flat_fills": float(np.mean([sketch.drawing_flat_share for sketch in sketches])),
        # Pooled over the sketches: an eye whose drawing has few such darks weighs little.
        "dark_fills": float(
            sum(sketch.dark_fill_hits for sketch in sketches)
            / max(sum(sketch.dark_fill_pixels for sketch in sketches), 1.0)
        ),
    }


def flat_fill_share(image: np.ndarray) -> float:
    """Share of an image's (S, S, 3) fill pixels, on the frame at MASK_SIDE, whose colour steps
    to each of its four neighbours by less than FLAT_STEP; 0 when it has no fill."""
    small = _small(image)
    across = np.abs(np.diff(small, axis=1)).max(axis=-1)  # (S, S - 1): step to the right
    down = np.abs(np.diff(small, axis=0)).max(axis=-1)  # (S - 1, S): step downwards
    step = np.maximum.reduce(
        [
            np.pad(across, ((0, 0), (0, 1))),  # to the right neighbour
            np.pad(across, ((0, 0), (1, 0))),  # to the left one
            np.pad(down, ((0, 1), (0, 0))),
            np.pad(down, ((1, 0), (0, 0))),
        ]
    )
    fill = (small.min(axis=-1) <= PAPER) & ~_dark(small) & ~dilate(step > EDGE_STEP, 1)
    return float((step[fill] < FLAT_STEP).mean()) if fill.any() else 0.0


def _small(image: np.ndarray) -> np.ndarray:
    """An image (S, S, 3) float in [0, 1] on the frame at MASK_SIDE."""
    picture = Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8))
    resized = picture.resize((MASK_SIDE, MASK_SIDE), Image.Resampling.BOX)
    return np.asarray(resized, np.float32) / 255.0


def _small_mask(mask: np.ndarray) -> np.ndarray:
    """A mask (S, S) bool on the frame at MASK_SIDE: where any of its pixels there is set."""
    small = Image.fromarray(mask.astype(np.uint8) * 255).resize(
        (MASK_SIDE, MASK_SIDE), Image.Resampling.BOX
    )
    return np.asarray(small) > 0


def _dark(images: np.ndarray) -> np.ndarray:
    """Where images (..., 3) are line-ink dark."""
    return images @ np.asarray(LUMA_WEIGHTS, np.float32) < DARK


def _paper_near_paint(paint: np.ndarray) -> np.ndarray:
    """Where paint (S, S) bool is absent but near, found on a MASK_SIDE copy: (S, S) bool."""
    side = paint.shape[0]
    coarse = _small_mask(paint)
    near = dilate(coarse, NEARBY) & ~dilate(coarse, EDGE_CLEARANCE)
    full = Image.fromarray(near.astype(np.uint8) * 255).resize(
        (side, side), Image.Resampling.NEAREST
    )
    return (np.asarray(full) > 0) & ~paint


def _dark_share(images: np.ndarray) -> float:
    return float(_dark(images).mean())
