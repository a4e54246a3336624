"""Reading and writing images as 8-bit RGBA arrays: files, PNG bytes, and flattening on white."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import EngineError
from engine.request import MAX_SIDE

# Refuse decompression bombs before decoding: a 8192 x 8192 RGBA image is the largest we accept.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE


# Luma weights of R, G and B (ITU-R BT.601): how dark a colour reads, for strokes and edges.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

# Pillow's modes for one 16-bit (or wider) grey channel, which its convert("RGBA") clips at 255.
_WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def decode_image(
    data: bytes, name: str = "image", formats: tuple[str, ...] | None = None
) -> np.ndarray:
    """Decode image bytes into an (H, W, 4) uint8 RGBA array; EngineError if not one.

    formats: Pillow format names to try (e.g. ("PNG",)); None = every format Pillow reads.
    """
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = image.size
            if max(width, height) > MAX_SIDE:
                raise EngineError(
                    f"{name} is {width}x{height}: the largest accepted side is {MAX_SIDE} px"
                )
            if image.mode in _WIDE_GRAY_MODES:
                return _wide_gray_to_rgba(image)
            return np.asarray(image.convert("RGBA"), dtype=np.uint8).copy()
    except EngineError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise EngineError(f"{name} is not a readable image ({type(error).__name__})") from None


def _wide_gray_to_rgba(image: Image.Image) -> np.ndarray:
    """16-bit grey (with its tRNS grey level, if any) as 8-bit RGBA, keeping every stroke.

    Pillow's own conversion clips every level above 255 to white; the top byte is what PNG's
    16-bit colour types reduce to elsewhere in Pillow.
    """
    samples = np.asarray(image).astype(np.int64)
    gray = np.clip(samples >> 8, 0, 255).astype(np.uint8)
    transparent_level = image.info.get("transparency")
    alpha = np.full(gray.shape, 255, np.uint8)
    if isinstance(transparent_level, int):
        alpha[samples == transparent_level] = 0
    return np.dstack([gray, gray, gray, alpha])


def read_image(path: Path) -> np.ndarray:
    """Read an image file as RGBA; EngineError naming the file if it is missing or unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise EngineError(f"cannot read {path}: {error.strerror or error}") from None
    return decode_image(data, name=str(path))


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
