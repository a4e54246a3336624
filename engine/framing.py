"""Framing a sketch for the model: its content box, fitted to the model's size, and mapping back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.diffusion.masks import INK_THRESHOLD, SHRUNK_INK_THRESHOLD, ink_of
from engine.errors import EngineError
from engine.images import darkest_channel, flattened_bytes
from engine.request import MAX_PATCH_SIDE

# The model was trained on drawings whose ink spans about 45-90% of the frame: frame a sketch
# so its ink box spans this share of the model's image.
INK_SHARE_OF_FRAME = 0.78


@dataclass(frozen=True)
class Frame:
    """A square box in sketch pixels (may reach past the edges) and the sketch's size."""

    left: int
    top: int
    side: int
    canvas_width: int
    canvas_height: int


def ink_box(sketch: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the ink of an RGBA sketch; EngineError if it has none.

    Works on uint8 in chunks of rows, so an 8000 x 8000 sketch needs no float copy of itself.
    """
    threshold = int(INK_THRESHOLD * 255 * 255)
    rows = np.zeros(sketch.shape[0], dtype=bool)
    columns = np.zeros(sketch.shape[1], dtype=bool)
    for start in range(0, sketch.shape[0], 512):
        chunk = sketch[start : start + 512]
        darkness = 255 - darkest_channel(chunk).astype(np.int32)
        ink = darkness * chunk[..., 3].astype(np.int32) > threshold  # darkness after flattening
        rows[start : start + len(chunk)] = ink.any(axis=1)
        columns |= ink.any(axis=0)
    if not rows.any():
        raise EngineError("sketch is empty: it has no visible strokes to make variants of")
    ys, xs = np.flatnonzero(rows), np.flatnonzero(columns)
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def frame_sketch(sketch: np.ndarray) -> Frame:
    """The square box around the sketch's ink, with the margin the model expects."""
    left, top, right, bottom = ink_box(sketch)
    side = max(4, int(np.ceil(max(right - left, bottom - top) / INK_SHARE_OF_FRAME)))
    center_x, center_y = (left + right) / 2, (top + bottom) / 2
    return Frame(
        left=int(round(center_x - side / 2)),
        top=int(round(center_y - side / 2)),
        side=side,
        canvas_width=sketch.shape[1],
        canvas_height=sketch.shape[0],
    )


def crop_to_model(sketch: np.ndarray, frame: Frame, size: int) -> np.ndarray:
    """The framed part of the sketch, flattened on white, at size x size: float32 [0, 1] RGB."""
    return np.asarray(crop_on_white(sketch, frame, size), dtype=np.float32) / 255.0


def crop_on_white(sketch: np.ndarray, frame: Frame, size: int) -> np.ndarray:
    """The framed part of the sketch flattened on white at size x size: (size, size, 3) uint8.

    Flattens in bands of rows into one uint8 frame, so an 8192 px sketch costs one byte per
    channel of its frame, never a float copy of itself.
    """
    side = frame.side
    flat = np.full((side, side, 3), 255, np.uint8)  # outside the sketch: white
    x0, y0 = max(frame.left, 0), max(frame.top, 0)
    x1 = min(frame.left + side, frame.canvas_width)
    y1 = min(frame.top + side, frame.canvas_height)
    for start in range(y0, y1, 512):
        stop = min(start + 512, y1)
        flat[start - frame.top : stop - frame.top, x0 - frame.left : x1 - frame.left] = (
            flattened_bytes(sketch[start:stop, x0:x1])
        )
    return at_model_size(flat, size)


def at_model_size(flat: np.ndarray, size: int) -> np.ndarray:
    """A square sketch on white, (side, side, 3) uint8, at size x size as the model sees it:
    enlarged smoothly, or shrunk with its strokes kept dark."""
    side = flat.shape[0]
    if side == size:
        return flat
    if side < size:
        return np.asarray(
            Image.fromarray(flat, "RGB").resize((size, size), Image.Resampling.BICUBIC)
        )
    return shrink_keeping_strokes(flat, size)


def shrink_keeping_strokes(flat: np.ndarray, size: int) -> np.ndarray:
    """Shrink a sketch on white to size x size, its strokes as dark as the model's training lines.

    A plain box shrink averages a 2-3 px pencil line on an 800 px layer into a pale grey the
    model never saw in training (its sketches have lines about one model pixel wide and nearly
    black), and sdedit then draws a blank page. So strokes are thickened by about a model pixel
    first: a min-pool to between 4 and 8 times the model's size (cheap on huge frames), a min
    filter as wide as a model pixel there, then the box shrink (9 ms for an 863 px frame, 80 ms
    for 8000 px). On 512 px layers (`evaluate --side 512`) this took sdedit's retrieval from 0.06
    to 1.00 and the mask's recall from 0.95 to 0.97; a filter half as wide left sdedit at 0.80.
    """
    side = flat.shape[0]
    step = max(1, side // (4 * size))
    if step > 1:
        flat = _darkest_of_cells(_darkest_of_cells(flat, step, axis=0), step, axis=1)
    width = 2 * int(side / step / size / 2) + 1  # pixels of a model pixel there, made odd
    if width > 1:
        flat = _darkest_within(_darkest_within(flat, width, axis=0), width, axis=1)
    # The last pooled cell may be partial: the box maps exactly the frame's own extent.
    extent = side / step
    image = Image.fromarray(np.ascontiguousarray(flat), "RGB")
    return np.asarray(image.resize((size, size), Image.Resampling.BOX, box=(0, 0, extent, extent)))


def _darkest_of_cells(image: np.ndarray, step: int, axis: int) -> np.ndarray:
    """Min over runs of `step` pixels along an axis (the last run may be shorter); no copy of
    the image is made, so an 8000 px frame costs only its pooled result. Elementwise minima of
    strided views: a reduction over a strided axis took 60 times longer across rows."""
    lines = np.moveaxis(image, axis, 0)
    whole = len(lines) // step * step
    darkest = lines[0:whole:step].copy()
    for offset in range(1, step):
        np.minimum(darkest, lines[offset:whole:step], out=darkest)
    parts = [darkest]
    if whole < len(lines):
        parts.append(lines[whole:].min(axis=0, keepdims=True))
    return np.moveaxis(np.concatenate(parts), 0, axis)


def _darkest_within(image: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Min over a centred window of `width` pixels along an axis, white beyond the edges."""
    reach = width // 2
    padding = [(0, 0)] * image.ndim
    padding[axis] = (reach, reach)
    padded = np.pad(image, padding, constant_values=255)
    length = image.shape[axis]
    darkest = np.take(padded, range(length), axis=axis)
    for offset in range(1, width):
        np.minimum(darkest, np.take(padded, range(offset, offset + length), axis=axis), out=darkest)
    return darkest


def model_ink(image: np.ndarray) -> np.ndarray:
    """Ink of a sketch already at the model's size (strokes thinned by shrinking still count)."""
    return ink_of(image, SHRUNK_INK_THRESHOLD)


def to_rgba_patch(rgb: np.ndarray, region: np.ndarray, frame: Frame) -> np.ndarray:
    """A result at the frame's size (at most MAX_PATCH_SIDE), white made transparent: uint8 RGBA.

    rgb: (R, R, 3) float in [0, 1] at any resolution (the model's, or the upsampler's);
    region: (S, S) float at the model's resolution, 1 where the model drew.
    Resizes in uint8 and converts in bands of rows, so a large frame costs its uint8 images
    (7 bytes a pixel), never float copies of the whole frame.
    """
    side = min(frame.side, MAX_PATCH_SIDE)
    rgb_image = Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8), "RGB")
    if rgb_image.size != (side, side):
        shrinking = rgb_image.size[0] > side
        rgb_image = rgb_image.resize(
            (side, side), Image.Resampling.LANCZOS if shrinking else Image.Resampling.BICUBIC
        )
    rgb_up = np.asarray(rgb_image)
    region_image = Image.fromarray((np.clip(region, 0, 1) * 255).astype(np.uint8), "L")
    region_up = np.asarray(region_image.resize((side, side), Image.Resampling.BILINEAR))
    rgba = np.empty((side, side, 4), np.uint8)
    for start in range(0, side, 512):
        rows = slice(start, start + 512)
        rgba[rows] = _white_to_alpha(rgb_up[rows], region_up[rows])
    return rgba


def _white_to_alpha(rgb_u8: np.ndarray, region_u8: np.ndarray) -> np.ndarray:
    """Colour to alpha against white, inside the region: uint8 RGBA of a band of rows.

    In place and with the darkest channel taken in uint8: four times quicker than plain array
    expressions (a live preview waits for it), with the same bytes.
    """
    # The most opaque colour that over white gives the pixel.
    alpha = 1.0 - darkest_channel(rgb_u8).astype(np.float32) / 255
    alpha[alpha < 0.06] = 0.0  # faint noise off
    alpha *= region_u8 / np.float32(255)
    safe = np.maximum(alpha, 1e-6)[..., None]
    colour = rgb_u8.astype(np.float32) / 255
    colour -= 1.0 - safe
    colour /= safe
    np.clip(colour, 0.0, 1.0, out=colour)
    colour *= 255
    rgba = np.empty((*rgb_u8.shape[:2], 4), np.uint8)
    rgba[..., :3] = colour.round()
    rgba[..., 3] = (alpha * 255).round()
    # Unseen colour under full transparency, zeroed: the PNG is a tenth smaller and quicker.
    rgba[rgba[..., 3] == 0] = 0
    return rgba
