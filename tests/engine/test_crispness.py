"""Crispness metrics: steep lines score higher than soft ones; edges match within a pixel."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from engine.measure.crispness import (
    construction_ink,
    edge_f1,
    fine_detail,
    psnr,
    sharpness,
    stage_on_truth,
)
from engine.pipeline import Engine


def _line_image(blur: float = 0.0, offset: int = 0) -> np.ndarray:
    image = Image.new("RGB", (128, 128), (255, 255, 255))
    image.paste((0, 0, 0), (20, 60 + offset, 108, 64 + offset))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(image, np.float32) / 255


def test_a_soft_line_is_less_sharp_than_a_crisp_one():
    assert sharpness(_line_image(blur=3)) < 0.5 * sharpness(_line_image())


def test_edge_f1_tolerates_one_pixel_and_not_ten():
    crisp = _line_image()
    assert edge_f1(crisp, crisp) == 1.0
    assert edge_f1(_line_image(offset=1), crisp) == 1.0
    assert edge_f1(_line_image(offset=10), crisp) < 0.1


def test_psnr_and_fine_detail():
    crisp = _line_image()
    assert psnr(crisp, crisp) == float("inf")
    assert psnr(_line_image(blur=2), crisp) < 30
    blown_up = (
        np.asarray(
            Image.fromarray((crisp * 255).astype(np.uint8)).resize((16, 16)).resize((128, 128)),
            np.float32,
        )
        / 255
    )
    assert fine_detail(blown_up, 128, 16) < 0.5 * fine_detail(crisp, 128, 16)


def test_stage_on_truth_has_the_asked_side(tiny_two_stage_dir):
    engine = Engine.load(tiny_two_stage_dir)
    low = np.ones((32, 32, 3), np.float32)
    sketch = np.ones((80, 80, 3), np.float32)
    out = stage_on_truth(engine, low, sketch, 80)
    assert out.shape == (80, 80, 3) and 0.0 <= out.min() and out.max() <= 1.0


def test_construction_ink_tells_a_stage_that_follows_the_pencil(
    tiny_two_stage_dir, tiny_upscaler_config, tmp_path
):
    import shutil

    from engine.upscaler.network import build_upscaler
    from engine.weights import UPSCALER_DIR, UPSCALER_FORMAT, save_model

    # A fresh stage (zero output layer) is the bicubic blow-up: blind to the sketch.
    blind = tmp_path / "blind"
    shutil.copytree(tiny_two_stage_dir, blind)
    shutil.rmtree(blind / UPSCALER_DIR)
    network = build_upscaler(tiny_upscaler_config.network)
    save_model(
        network, tiny_upscaler_config, blind / UPSCALER_DIR, {"trained_steps": 0}, UPSCALER_FORMAT
    )
    figures = construction_ink(Engine.load(blind), count=2, side=128)
    assert np.isfinite(figures["with_guides"])
    assert figures["with_guides"] == figures["without_guides"]
    # The random-weight stage reads the sketch, so the guides change what it paints there.
    seeing = construction_ink(Engine.load(tiny_two_stage_dir), count=2, side=128)
    assert seeing["with_guides"] != seeing["without_guides"]
