"""Reading and writing images as 8-bit RGBA arrays: files, PNG bytes, and flattening on white."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import EngineError
from engine.memory_budget import MemoryBudget
from engine.request import MAX_SIDE

# Refuse decompression bombs before decoding: a 8192 x 8192 RGBA image is the largest we accept.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE


# Luma weights of R, G and B (ITU-R BT.601): how dark a colour reads, for strokes and edges.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

# Pillow's modes for one 16-bit (or wider) grey channel, which its convert("RGBA") clips at 255.
WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
# Modes Pillow's reduce takes as they are (RGBA and LA premultiplied, so the colour hidden under
# transparent pixels does not bleed in); others become RGBA first.
_REDUCIBLE_MODES = ("L", "LA", "RGB", "RGBA")
# The most bytes a pixel costs while an image decodes into RGBA (the decoded image, Pillow's copy
# for NumPy and NumPy's own), by peak RSS on 8192 px PNGs of each mode: 12-16 at full size,
# 16-bit grey 14 (through NumPy in 32 bits); decoded for a small size, 1-9 (the decoded image and
# the reduced one's premultiplied copy).
FULL_BYTES_PER_PIXEL = 16
WIDE_GRAY_BYTES_PER_PIXEL = 14
REDUCED_BYTES_PER_PIXEL = 9
# Every decode in the process holds its bytes from this budget: one 8192 px drawing decoded for
# the model's size at a time (576 MB), or many small images together; a decode bigger than the
# budget (a full-size 8192 px image, up to 1 GiB) waits for the others and runs alone.
DECODES = MemoryBudget(REDUCED_BYTES_PER_PIXEL * MAX_SIDE * MAX_SIDE)


def decode_image(
    data: bytes,
    name: str = "image",
    formats: tuple[str, ...] | None = None,
    reduce_to: int | None = None,
) -> np.ndarray:
    """Decode image bytes into an (H, W, 4) uint8 RGBA array; EngineError if not one.

    formats: Pillow format names to try (e.g. ("PNG",)); None = every format Pillow reads.
    reduce_to: for a caller that fits the image into this many pixels a side: box-reduced by a
    whole factor to no less than 4 times that, in far less memory than at full size; None: as is.
    """
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = image.size
            if max(width, height) > MAX_SIDE:
                raise EngineError(
                    f"{name} is {width}x{height}: the largest accepted side is {MAX_SIDE} px"
                )
            factor = 1 if reduce_to is None else max(1, max(width, height) // (4 * reduce_to))
            with DECODES.hold(decode_cost(image, factor)):
                rgba = _rgba(image, factor)
                image.close()  # its pixels freed before the budget's memory is given back
                return rgba
    except EngineError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise EngineError(f"{name} is not a readable image ({type(error).__name__})") from None


def decode_cost(image: Image.Image, factor: int = 1) -> int:
    """The most bytes decoding this opened image (reduced by `factor`) holds at once."""
    width, height = image.size
    if image.mode in WIDE_GRAY_MODES:
        per_pixel = WIDE_GRAY_BYTES_PER_PIXEL
    else:
        per_pixel = FULL_BYTES_PER_PIXEL if factor == 1 else REDUCED_BYTES_PER_PIXEL
    return width * height * per_pixel


def _rgba(image: Image.Image, factor: int) -> np.ndarray:
    if image.mode in WIDE_GRAY_MODES:
        rgba = wide_gray_to_rgba(image)
        if factor == 1:
            return rgba
        image = Image.fromarray(rgba, "RGBA")
    elif factor > 1 and (image.mode not in _REDUCIBLE_MODES or "transparency" in image.info):
        image = image.convert("RGBA")
    if factor > 1:
        image = image.reduce(factor)
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    return np.asarray(rgba, dtype=np.uint8).copy()


def wide_gray_to_rgba(image: Image.Image) -> np.ndarray:
    """16-bit grey (with its tRNS grey level, if any) as 8-bit RGBA, keeping every stroke.

    Pillow's own conversion clips every level above 255 to white; the top byte is what PNG's
    16-bit colour types reduce to elsewhere in Pillow.
    """
    samples = np.asarray(image).astype(np.int32)  # 16-bit levels (or mode I's) fit
    gray = np.clip(samples >> 8, 0, 255).astype(np.uint8)
    transparent_level = image.info.get("transparency")
    alpha = np.full(gray.shape, 255, np.uint8)
    if isinstance(transparent_level, int):
        alpha[samples == transparent_level] = 0
    return np.dstack([gray, gray, gray, alpha])


def read_image(path: Path, reduce_to: int | None = None) -> np.ndarray:
    """Read an image file as RGBA (reduce_to: as decode_image's); EngineError naming the file if
    it is missing or unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise EngineError(f"cannot read {path}: {error.strerror or error}") from None
    return decode_image(data, name=str(path), reduce_to=reduce_to)


def encode_png(rgba: np.ndarray) -> bytes:
    """Encode an (H, W, 4) uint8 array as PNG bytes."""
    buffer = io.BytesIO()
    # Fast compression: level 1 is a third quicker than the default and barely larger here.
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def write_png(rgba: np.ndarray, path: Path) -> None:
    """Write an (H, W, 4) uint8 array to a PNG file, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_png(rgba))


def flatten_on_white(rgba: np.ndarray) -> np.ndarray:
    """Composite RGBA over white; returns (H, W, 3) float32 in [0, 1]."""
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    return rgb * alpha + (1.0 - alpha)


def flattened_bytes(rgba: np.ndarray) -> np.ndarray:
    """Composite uint8 RGBA over white in integers: (H, W, 3) uint8, the same bytes as
    flatten_on_white's result rounded (a test checks every colour and alpha) in a tenth of its
    time, which a live preview of a large sketch waits for."""
    alpha = rgba[..., 3:4].astype(np.uint16)
    composite = rgba[..., :3] * alpha + 255 * (255 - alpha)  # 255 x the result, at most 65025
    # Division by 255, rounded, exact on 0..65025 and within uint16: (t + t // 256) // 256
    # with t = x + 128.
    composite += 128
    composite += composite >> 8
    return (composite >> 8).astype(np.uint8)


def darkest_channel(rgb: np.ndarray) -> np.ndarray:
    """The smallest of a pixel's R, G and B, in their dtype; a twentieth of the time of
    `.min(axis=-1)`, which numpy runs slowly over an axis three long."""
    return np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


def opaque(rgb: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 image as (H, W, 4) RGBA, every pixel opaque."""
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
