"""Sketches arrive as PNG only, of any colour type and depth, and wait in the queue as PNG bytes."""

from __future__ import annotations

import base64
import io
import struct

import numpy as np
import pytest
from PIL import Image

from engine.images import encode_png
from engine.request import GenerateRequest
from tests.fakes.fake_engine import FakeEngine, fake_image, sketch
from tests.server.png_files import GRAY, GRAY_ALPHA, PALETTE, RGB, RGBA, chunk, png_bytes
from tests.server.serving import job_limits

DARK = 20  # the stroke's grey level, in 8 bits


def _other_format(name: str) -> bytes:
    if name == "EPS":  # Pillow hands EPS to Ghostscript where it is installed
        return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n%%EOF\n"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (DARK, DARK, DARK)).save(buffer, format=name)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["TIFF", "BMP", "GIF", "JPEG", "ICO", "WEBP", "EPS"])
def test_other_image_formats_are_refused_in_one_line(served, name):
    body = {"sketch_png": base64.b64encode(_other_format(name)).decode()}
    answer = served.client.request("POST", "/v1/jobs", body)
    assert answer.status == 400
    assert answer.json() == {
        "error": "sketch_png is not a PNG: send the sketch as PNG (other formats are refused)"
    }


def test_a_png_with_a_broken_chunk_is_refused_before_it_queues(served):
    png = bytearray(encode_png(sketch(1)))
    png[-20] ^= 0xFF  # inside the last IDAT chunk: its checksum no longer matches
    answer = served.client.request(
        "POST", "/v1/jobs", {"sketch_png": base64.b64encode(png).decode()}
    )
    assert answer.status == 400
    assert answer.json()["error"].startswith("sketch_png is not a readable PNG")
    assert served.client.request("GET", "/v1/jobs").json() == {"jobs": []}


def test_a_png_declaring_a_huge_size_is_refused_from_its_header(served):
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    answer = served.client.request(
        "POST", "/v1/jobs", {"sketch_png": base64.b64encode(png).decode()}
    )
    assert answer.status == 400
    assert answer.json()["error"] == (
        "sketch_png is 100000x100000: sides of 1 to 8192 px are accepted"
    )


def _stroke_samples(bit_depth: int, channels: int) -> np.ndarray:
    """A 6x7 sheet of paper (every sample at its maximum) with a dark L-shaped stroke."""
    top = (1 << bit_depth) - 1
    samples = np.full((6, 7, channels), top, dtype=np.int64)
    dark = DARK << 8 | DARK if bit_depth == 16 else (DARK if bit_depth == 8 else 0)
    samples[1:5, 2, : min(channels, 3)] = dark
    samples[4, 2:6, : min(channels, 3)] = dark
    if channels in (2, 4):
        samples[..., -1] = top  # opaque
    return samples


def _expected(transparent_paper: bool, dark: int) -> np.ndarray:
    """The RGBA sketch every PNG below must decode to."""
    image = np.full((6, 7, 4), 255, np.uint8)
    if transparent_paper:
        image[..., 3] = 0
    for rows, cols in ((slice(1, 5), 2), (4, slice(2, 6))):
        image[rows, cols] = (dark, dark, dark, 255)
    return image


def _palette_png(bit_depth: int) -> bytes:
    indices = np.ones((6, 7, 1), np.int64)
    indices[1:5, 2] = 0
    indices[4, 2:6] = 0
    # Entry 0 is the stroke, entry 1 the paper, transparent through tRNS.
    return png_bytes(indices, PALETTE, bit_depth, [(DARK,) * 3, (255,) * 3], b"\xff\x00")


CASES = {
    **{
        f"gray {d}-bit": (png_bytes(_stroke_samples(d, 1), GRAY, d), False, DARK if d >= 8 else 0)
        for d in (1, 2, 4, 8, 16)
    },
    "gray 16-bit, tRNS paper": (
        png_bytes(_stroke_samples(16, 1), GRAY, 16, transparency=b"\xff\xff"),
        True,
        DARK,
    ),
    "gray+alpha 8-bit": (png_bytes(_stroke_samples(8, 2), GRAY_ALPHA, 8), False, DARK),
    "gray+alpha 16-bit": (png_bytes(_stroke_samples(16, 2), GRAY_ALPHA, 16), False, DARK),
    "rgb 8-bit": (png_bytes(_stroke_samples(8, 3), RGB, 8), False, DARK),
    "rgb 16-bit": (png_bytes(_stroke_samples(16, 3), RGB, 16), False, DARK),
    "rgb 16-bit, tRNS paper": (
        png_bytes(_stroke_samples(16, 3), RGB, 16, transparency=b"\xff" * 6),
        True,
        DARK,
    ),
    "rgba 8-bit": (png_bytes(_stroke_samples(8, 4), RGBA, 8), False, DARK),
    "rgba 16-bit": (png_bytes(_stroke_samples(16, 4), RGBA, 16), False, DARK),
    **{f"palette {d}-bit": (_palette_png(d), True, DARK) for d in (1, 2, 4, 8)},
}


@pytest.mark.parametrize(("png", "transparent", "dark"), CASES.values(), ids=CASES.keys())
def test_every_png_colour_type_and_depth_keeps_its_strokes(served, png, transparent, dark):
    body = {"sketch_png": base64.b64encode(png).decode(), "count": 1, "steps": 1}
    answer = served.client.request("POST", "/v1/jobs", body)
    assert answer.status == 202, answer.body
    job_id = answer.json()["id"]
    assert served.client.wait(job_id)["state"] == "done"
    [(_, variant)] = served.client.result(job_id)
    # The fake engine's output is a function of the exact pixels it was given.
    expected = GenerateRequest(sketch=_expected(transparent, dark), count=1, steps=1)
    np.testing.assert_array_equal(variant, fake_image(expected, 0, "fake"))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda text: base64.encodebytes(base64.b64decode(text)).decode(),  # 76 columns, \n
        lambda text: "\r\n".join(text[i : i + 64] for i in range(0, len(text), 64)),
        lambda text: f"  {text[:10]} {text[10:]}\t\n",
    ],
    ids=["mime lines", "crlf lines", "spaces and tabs"],
)
def test_base64_with_line_breaks_and_spaces_is_accepted(served, wrap):
    image = sketch(3, 40, 50)  # large enough to span several base64 lines
    text = base64.b64encode(encode_png(image)).decode()
    answer = served.client.request("POST", "/v1/jobs", {"sketch_png": wrap(text), "count": 1})
    assert answer.status == 202, answer.body
    job_id = answer.json()["id"]
    served.client.wait(job_id)
    [(seed, variant)] = served.client.result(job_id)
    request = GenerateRequest(sketch=image, count=1)
    np.testing.assert_array_equal(variant, fake_image(request, seed, "fake"))


def _big_empty_png() -> bytes:
    """8192 x 8192, nearly all transparent: a few hundred KB that decode to 256 MB."""
    buffer = io.BytesIO()
    image = Image.new("LA", (8192, 8192))
    image.putpixel((4000, 4000), (20, 255))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_waiting_jobs_hold_their_png_not_its_pixels(serve):
    served = serve(FakeEngine(hold=True))
    running = served.client.submit(sketch(4), count=1, steps=1)
    assert served.engine.started.wait(10)
    png = _big_empty_png()
    body = {"sketch_png": base64.b64encode(png).decode(), "count": 1, "steps": 1}
    ids = [served.client.request("POST", "/v1/jobs", body).json()["id"] for _ in range(4)]
    for job_id in ids:
        job = served.server.jobs.get(job_id)
        assert job.png == png  # compressed, as sent
        assert job.request.sketch.shape == (1, 1, 4)  # the decoded sketch does not exist yet
    served.client.request("DELETE", f"/v1/jobs/{running}")


def test_the_queue_is_bounded_in_bytes_too(serve):
    served = serve(FakeEngine(hold=True), config=job_limits(waiting_bytes=1_000_000))
    served.client.submit(sketch(5), count=1, steps=1)
    assert served.engine.started.wait(10)
    png = _big_empty_png()
    body = {"sketch_png": base64.b64encode(png).decode(), "count": 1, "steps": 1}
    statuses = [served.client.request("POST", "/v1/jobs", body).status for _ in range(8)]
    fits = max(1, 1_000_000 // len(png))  # the first waiting job is taken whatever its size
    assert statuses == [202] * fits + [429] * (8 - fits)
    full = served.client.request("POST", "/v1/jobs", body)
    assert full.headers["Retry-After"] == "5"
    assert "MB of sketches" in full.json()["error"]
