"""Pixel buffers without NumPy: channel order, emptiness, and PNG through QImage."""

from __future__ import annotations

import struct

from .qt import QBuffer, QByteArray, QImage, QIODevice, Qt


def swap_red_blue(pixels: bytes) -> bytes:
    """BGRA <-> RGBA for 8-bit pixels (Krita stores RGBA/U8 as B, G, R, A)."""
    # Slice assignment runs in C: about 1 ms per megapixel, where a Python loop would take seconds.
    out = bytearray(pixels)
    out[0::4] = pixels[2::4]
    out[2::4] = pixels[0::4]
    return bytes(out)


def is_transparent(pixels: bytes) -> bool:
    """True when every pixel's alpha is zero (RGBA or BGRA: alpha is the 4th byte in both)."""
    alpha = pixels[3::4]
    return alpha.count(0) == len(alpha)


def encode_png(rgba: bytes, width: int, height: int) -> bytes:
    """PNG bytes of 8-bit straight-alpha RGBA pixels."""
    image = QImage(rgba, width, height, width * 4, QImage.Format.Format_RGBA8888)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int] | None:
    """(width, height) a PNG declares in its IHDR chunk, without decoding it; None if no PNG."""
    # The signature, then the IHDR chunk: length 13, type, width and height as big-endian words.
    if len(png) < 24 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def decode_png_bgra(png: bytes, width: int, height: int) -> bytes | None:
    """Krita-ordered (B, G, R, A) pixels of a PNG scaled to width x height; None if unreadable."""
    image = QImage.fromData(QByteArray(png), "PNG")
    if image.isNull():
        return None
    if image.width() != width or image.height() != height:
        image = image.scaled(
            width,
            height,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    # ARGB32 is one 0xAARRGGBB word per pixel: B, G, R, A in memory on little-endian machines,
    # which is Krita's order, and with 4 bytes a pixel its rows have no padding.
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    bits = image.constBits()
    if bits is None:  # a null image: Qt could not make one this size
        raise ValueError(f"cannot hold a {width} x {height} image")
    return bits.asstring(image.sizeInBytes())


def sketch_png(bgra: bytes, width: int, height: int) -> bytes:
    """PNG bytes of a sketch read in Krita's order (the work done off the main thread)."""
    return encode_png(swap_red_blue(bgra), width, height)
