"""PNG files of every colour type and bit depth, written by hand (Pillow cannot write them all)."""

from __future__ import annotations

import struct
import zlib

import numpy as np

# PNG colour types: samples per pixel.
GRAY, RGB, PALETTE, GRAY_ALPHA, RGBA = 0, 2, 3, 4, 6
CHANNELS = {GRAY: 1, RGB: 3, PALETTE: 1, GRAY_ALPHA: 2, RGBA: 4}


def png_bytes(
    samples: np.ndarray,
    color_type: int,
    bit_depth: int,
    palette: list[tuple[int, int, int]] | None = None,
    transparency: bytes | None = None,
) -> bytes:
    """Encode (H, W, channels) integer samples as a PNG of the given colour type and depth."""
    samples = np.asarray(samples)
    if samples.ndim == 2:
        samples = samples[..., None]
    height, width, channels = samples.shape
    assert channels == CHANNELS[color_type]
    rows = []
    for row in samples:
        if bit_depth == 16:
            data = row.astype(">u2").tobytes()
        elif bit_depth == 8:
            data = row.astype(np.uint8).tobytes()
        else:  # 1, 2 or 4 bits: pack the samples of the row, most significant bits first
            bits = np.unpackbits(row.astype(np.uint8).reshape(-1, 1), axis=1)[:, 8 - bit_depth :]
            data = np.packbits(bits.reshape(-1)).tobytes()
        rows.append(b"\x00" + data)  # filter type 0 (None) on every row
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    chunks = [chunk(b"IHDR", header)]
    if palette is not None:
        chunks.append(chunk(b"PLTE", bytes(value for colour in palette for value in colour)))
    if transparency is not None:
        chunks.append(chunk(b"tRNS", transparency))
    chunks.append(chunk(b"IDAT", zlib.compress(b"".join(rows))))
    chunks.append(chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and checksum."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
