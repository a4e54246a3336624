"""make demo's client side: a real engine server (with a stand-in model) as its own process."""

from __future__ import annotations

import io
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# The packaging scripts are stand-alone scripts, not a package; no conftest.py here on purpose:
# a second top-level `conftest` module would shadow tests/conftest.py for `from conftest import`.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import demo  # noqa: E402

# The tests' fake serve process: a real EngineServer in its own process with only the model
# replaced, so this tests the demo's process handling, token, HTTP and pictures in seconds.
from tests.fakes import FAKE_SERVE  # noqa: E402


@pytest.fixture
def sketch(tmp_path: Path) -> Path:
    """A small transparent sketch with one dark stroke."""
    pixels = np.zeros((48, 64, 4), dtype=np.uint8)
    pixels[20:24, 8:56] = (20, 20, 20, 255)
    path = tmp_path / "sketch.png"
    Image.fromarray(pixels, "RGBA").save(path)
    return path


def test_demo_against_a_real_server(tmp_path: Path, sketch: Path) -> None:
    """The demo starts the server, gets every variant, writes the sheet and stops the server."""
    out = tmp_path / "demo"
    command = shlex.join([sys.executable, str(FAKE_SERVE)])
    missing = str(tmp_path / "missing.png")
    assert demo.main(["--sketch", missing, "--out", str(out), "--engine-command", command]) == 1
    code = demo.main(
        ["--sketch", str(sketch), "--out", str(out), "--count", "5", "--no-krita"]
        + ["--engine-command", command]
    )
    assert code == 0
    variants = sorted(out.glob("variant_*.png"))
    assert [path.name for path in variants] == [f"variant_{i}_seed{i}.png" for i in range(5)]
    with Image.open(variants[0]) as image:
        assert image.size == (64, 48)
    with Image.open(out / "contact.png") as sheet:
        # Sketch column plus a 3-wide grid of 2 rows, each cell 256 px high with a label.
        assert sheet.height > 2 * demo.CELL and sheet.width > 4 * demo.CELL
    assert (out / "token").read_text().strip()


def test_contact_sheet_puts_the_sketch_beside_its_variants() -> None:
    """The sheet's left cell is the sketch (white background), the variants sit to its right."""
    black = io.BytesIO()
    Image.new("RGBA", (32, 32), (0, 0, 0, 255)).save(black, "PNG")
    clear = io.BytesIO()
    Image.new("RGBA", (32, 32), (0, 0, 0, 0)).save(clear, "PNG")
    sheet = demo.contact_sheet(clear.getvalue(), [(7, black.getvalue())])
    assert sheet.size == (demo.GAP * 2 + 2 * (demo.CELL + demo.GAP), demo.CELL + 24 + 2 * 8)
    left = sheet.getpixel((demo.GAP + 10, demo.GAP + 10))
    right = sheet.getpixel((3 * demo.GAP + demo.CELL + 10, demo.GAP + 10))
    assert left == (255, 255, 255) and right == (0, 0, 0)


def test_engine_that_dies_early_is_reported(tmp_path: Path) -> None:
    """An engine that exits before its ready line is a DemoError, not a hang."""
    with pytest.raises(demo.DemoError, match="did not report ready"):
        demo.start_engine([sys.executable, "-c", "print('no model')"], timeout=30)
