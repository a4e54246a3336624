"""A model's config.json: every bad setting is refused with a message that names it."""

from __future__ import annotations

import pytest

from engine.config import ModelConfig
from engine.errors import EngineError


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("colour", "palette", [1, 2], "R, G, B triples"),
        ("colour", "palette", [0, 0, 300], "R, G, B triples"),
        ("colour", "hint_dropout", 1.5, "0 to 1"),
        ("network", "colour_hint", 1, "true or false"),
        ("sampling", "solver", "euler", "sampling.solver must be ddim or dpm"),
        ("sampling", "steps", 0, "sampling.steps must be 1 to 64"),
        ("sampling", "steps", "4", "sampling.steps must be a whole number"),
        ("sampling", "time_power", 0.5, "sampling.time_power must be 1 to 4"),
        ("sampling", "colour_guidance", 0.5, "sampling.colour_guidance must be 1 to 4"),
        ("train", "distilled_guidance", 5, "train.distilled_guidance must be 1 to 4"),
        ("train", "colour_reach", 9, "train.colour_reach must be 0 to 8"),
        ("train", "sketch_start", 1.5, "train.sketch_start must be 0 to 1"),
        ("fills", "smoothing_passes", 9, "fills.smoothing_passes must be 0 to 8"),
        ("fills", "smoothing_passes", -1, "fills.smoothing_passes must be 0 to 8"),
        ("fills", "colour_sigma", 0, "fills.colour_sigma must be above 0"),
        ("fills", "colour_sigma", "0.1", "fills.colour_sigma must be a number"),
        ("fills", "radius", 2, "fills.radius is not a known setting"),
    ],
)
def test_bad_settings_are_named(hinted_config, section, key, value, message):
    document = hinted_config.to_dict()
    document[section][key] = value
    with pytest.raises(EngineError, match=message):
        ModelConfig.from_dict(document)
