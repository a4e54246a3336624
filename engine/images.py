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


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode PNG/JPEG/... bytes into an (H, W, 4) uint8 RGBA array; EngineError if not one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if max(width, height) > MAX_SIDE:
                raise EngineError(
                    f"{name} is {width}x{height}: the largest accepted side is {MAX_SIDE} px"
                )
            return np.asarray(image.convert("RGBA"), dtype=np.uint8).copy()
    except EngineError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise EngineError(f"{name} is not a readable image ({type(error).__name__})") from None


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
