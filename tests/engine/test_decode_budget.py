"""Images decoded for a small size are box-reduced first, in far less memory, to what the full
decode gives; and every decode holds its bytes from one budget, so decodes wait for room."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.data.folder import fit_on_white
from engine.images import DECODES, decode_cost, decode_image
from engine.memory_budget import MemoryBudget


def _png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _ring(mode: str, side: int = 1200) -> Image.Image:
    """A dark ring on the mode's white, or on transparent red for modes with alpha."""
    background = {"RGBA": (255, 0, 0, 0), "LA": (255, 0), "RGB": (255, 255, 255), "L": 255}
    ink = {"RGBA": (20, 20, 20, 255), "LA": (20, 255), "RGB": (20, 20, 20), "L": 20}
    image = Image.new(mode, (side, side), background.get(mode, 255))
    ImageDraw.Draw(image).ellipse(
        (200, 200, side - 200, side - 200), outline=ink.get(mode), width=24
    )
    return image


@pytest.mark.parametrize("mode", ["RGBA", "LA", "RGB", "L", "P"])
def test_decoding_for_a_small_size_fits_to_what_the_full_decode_fits_to(mode):
    image = _ring("RGB").convert("P") if mode == "P" else _ring(mode)
    png = _png(image)
    reduced = decode_image(png, reduce_to=64)
    assert reduced.shape == (300, 300, 4)  # 1200 // (4 * 64) = 4 times smaller, not below 256
    full = fit_on_white(decode_image(png), 64).astype(int)
    small = fit_on_white(reduced, 64).astype(int)
    assert np.abs(full - small).max() <= 12 and np.abs(full - small).mean() < 1.0
    # The transparent red under RGBA's paper stays hidden: the paper is white, not pink.
    assert (small[0, 0] == 255).all()


def test_a_palette_image_with_a_transparent_index_is_reduced_on_white():
    image = Image.new("P", (1024, 1024), 0)
    image.putpalette([255, 0, 0, 0, 0, 0] + [0] * 762)  # index 0 red (transparent), 1 black
    ImageDraw.Draw(image).line((0, 512, 1024, 512), fill=1, width=16)
    png = _png(image, transparency=0)
    fitted = fit_on_white(decode_image(png, reduce_to=64), 64).astype(int)
    full = fit_on_white(decode_image(png), 64).astype(int)
    assert (fitted[0, 0] == 255).all() and fitted[32, 32].max() < 128  # white paper, a dark line
    assert np.abs(full - fitted).max() <= 12


def test_a_decode_waits_while_the_budget_is_held_and_runs_once_it_is_free():
    png = _png(_ring("RGB", 600))
    done = threading.Event()
    with DECODES.hold(DECODES.limit):
        thread = threading.Thread(target=lambda: (decode_image(png), done.set()))
        thread.start()
        assert not done.wait(0.5)  # waits for room: nothing of it decoded yet
    thread.join(10)
    assert done.is_set() and DECODES.held == 0


def test_the_cost_of_a_decode_is_counted_from_its_header_by_mode_and_reduction():
    with Image.open(io.BytesIO(_png(_ring("RGBA", 500)))) as image:
        assert decode_cost(image) == 500 * 500 * 16
        assert decode_cost(image, factor=2) == 500 * 500 * 9
    wide = Image.fromarray(np.full((100, 200), 40000, np.uint16))
    with Image.open(io.BytesIO(_png(wide))) as image:
        assert decode_cost(image, factor=2) == 100 * 200 * 14


def test_a_memory_budget_lets_small_holders_share_and_a_large_one_run_alone():
    budget = MemoryBudget(100)
    inside: list[int] = []
    most = [0]
    lock = threading.Lock()
    started = threading.Barrier(6)

    def holder(amount: int) -> None:
        started.wait()
        with budget.hold(amount):
            with lock:
                inside.append(amount)
                most[0] = max(most[0], sum(inside))
            threading.Event().wait(0.05)
            with lock:
                inside.remove(amount)

    threads = [threading.Thread(target=holder, args=(a,)) for a in (40, 40, 40, 150, 10, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert budget.held == 0
    assert most[0] <= 150  # the 150 held alone; the others never went over 100 together
