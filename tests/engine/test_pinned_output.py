"""Pinned numbers of the real pipeline with a tiny seeded model: numeric drift fails, not only
broken properties (the way diffusers pins a slice of each pipeline's output).

The tiny model is conftest's (seeded weights), loaded in float32: bfloat16, which the engine
picks on CPUs that have it, rounds differently. Measured when recording: two runs in separate
processes gave identical numbers, and scaling every prediction by 1 + 1e-4 noise moved no mean
by 1e-6; but min_signal_rate + 0.001 moved the means by 2e-3 (mask) to 2e-2 (sdedit), sampling
times scaled by 0.995 by 8e-3 to 3e-2, and an ink share of 0.785 instead of 0.78 moved the frame.
Hence the tolerances below: far above float noise, far below such drift.

To re-record deliberately (after a change meant to alter the output, e.g. to the schedule, the
framing or the tiny model): run this test, check that the change explains the new numbers, and
paste the `actual` summary its failure message prints over the PINNED entry.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.pipeline import Engine
from engine.request import GenerateRequest

MEAN_TOLERANCE = 1e-4  # channel means in [0, 1]: float noise stays below 1e-6
LEVEL_TOLERANCE = 1  # 8-bit levels of the pinned pixels: one rounding step
ROW = 27  # the pinned row of each patch, across the ring's band and its hole

PINNED = {
    "mask": {
        "frame": (20, 12, 56),
        "means": [
            [0.200009, 0.24466, 0.161396, 0.458653],
            [0.202207, 0.246929, 0.158887, 0.45945],
        ],
        "alpha_row": [0, 255, 246, 234, 16, 0, 0, 0, 0, 0, 0, 255, 213, 142],
    },
    "few-step mask": {
        "frame": (20, 12, 56),
        "means": [
            [0.236768, 0.255148, 0.144263, 0.442438],
            [0.223017, 0.254258, 0.144867, 0.456124],
        ],
        "alpha_row": [0, 222, 246, 234, 16, 0, 0, 0, 0, 0, 0, 225, 202, 127],
    },
    "sdedit": {
        "frame": (20, 12, 56),
        "means": [[0.405317, 0.395242, 0.28342, 0.798332]],
        "alpha_row": [255, 255, 246, 234, 225, 202, 227, 198, 223, 250, 235, 222, 202, 129],
    },
}
REQUESTS = {
    # The paper's path: pure noise inside the mask, its 16 levels.
    "mask": {"mode": "mask", "radius": 3, "count": 2, "seed": 7, "steps": 16, "strength": 1.0},
    "sdedit": {"mode": "sdedit", "strength": 0.6, "count": 1, "seed": 3, "steps": 8},
    # The default path: no steps or strength given, so the model's own steps (its sampling
    # section) from the mask's default strength.
    "few-step mask": {"mode": "mask", "radius": 3, "count": 2, "seed": 7},
}
# The sampling the tiny model is given for the few-step path, as the shipped model's config says.
FEW_STEP_SAMPLING = {"solver": "dpm++2m", "steps": 4, "time_power": 1.4}


@pytest.fixture(scope="module")
def float32_engine(tiny_model_dir) -> Engine:
    """The tiny seeded model in float32 (bfloat16, picked on CPUs with it, rounds differently)."""
    return Engine.load(tiny_model_dir, precision="float32")


@pytest.fixture(scope="module")
def few_step_engine(tiny_model_dir, tmp_path_factory) -> Engine:
    """The same tiny model, its config saying to sample it with 4 steps of DPM-Solver++(2M)."""
    folder = tmp_path_factory.mktemp("few-step") / "tiny"
    shutil.copytree(tiny_model_dir, folder)
    document = json.loads((folder / "config.json").read_text())
    document["config"]["sampling"] = FEW_STEP_SAMPLING
    (folder / "config.json").write_text(json.dumps(document))
    return Engine.load(folder, precision="float32")


def _summary(engine: Engine, sketch: np.ndarray, params: dict) -> dict:
    """A few numbers of one generation: its frame, each variant's channel means, one row."""
    variants = engine.generate(GenerateRequest(sketch=sketch, **params)).variants
    first = variants[0]
    return {
        "frame": (first.left, first.top, first.patch.shape[0]),
        "means": [(v.patch / 255.0).mean(axis=(0, 1)).round(6).tolist() for v in variants],
        "alpha_row": first.patch[ROW, ::4, 3].tolist(),
    }


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_tiny_model_gives_the_pinned_numbers(
    float32_engine, few_step_engine, circle_sketch, name
):
    engine = few_step_engine if name.startswith("few-step") else float32_engine
    actual = _summary(engine, circle_sketch, REQUESTS[name])
    pinned = PINNED[name]
    message = f"re-record (see the module docstring): actual = {actual!r}"
    assert actual["frame"] == pinned["frame"], message
    np.testing.assert_allclose(
        actual["means"], pinned["means"], atol=MEAN_TOLERANCE, err_msg=message
    )
    np.testing.assert_allclose(
        actual["alpha_row"], pinned["alpha_row"], atol=LEVEL_TOLERANCE, err_msg=message
    )
