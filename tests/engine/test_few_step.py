"""The step count as a model property: a model's sampling section, and requests that name none."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.config import ModelConfig, SamplingConfig
from engine.diffusion.schedule import sampling_times
from engine.errors import EngineError
from engine.pipeline import Engine
from engine.request import GenerateRequest


def test_old_configs_sample_with_ddim_at_the_papers_sixteen_levels(tiny_config):
    document = tiny_config.to_dict()
    del document["sampling"]
    assert ModelConfig.from_dict(document).sampling == SamplingConfig("ddim", 16)


@pytest.fixture(scope="module")
def few_step_dir(tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sampling") / "few"
    shutil.copytree(tiny_model_dir, folder)
    document = json.loads((folder / "config.json").read_text())
    document["config"]["sampling"] = {"solver": "dpm++2m", "steps": 3}
    (folder / "config.json").write_text(json.dumps(document))
    return folder


def test_a_request_without_steps_runs_the_models_own(few_step_dir, circle_sketch):
    engine = Engine.load(few_step_dir, precision="float32")
    assert engine.info["solver"] == "dpm++2m" and engine.info["steps"] == 3
    reports = []
    default = engine.generate(
        GenerateRequest(sketch=circle_sketch, count=1), on_progress=lambda k, n: reports.append(n)
    )
    assert reports == [3, 3, 3]
    # The old path is one setting away: the steps named in the request.
    reports.clear()
    sixteen = engine.generate(
        GenerateRequest(sketch=circle_sketch, count=1, steps=16),
        on_progress=lambda k, n: reports.append(n),
    )
    assert reports == [16] * 16
    assert not np.array_equal(default.variants[0].patch, sixteen.variants[0].patch)
    # ... and it is exactly the paper's path: what the model gave before it had a sampling section.
    paper = engine.sampled_with(SamplingConfig()).generate(
        GenerateRequest(sketch=circle_sketch, count=1)
    )
    np.testing.assert_array_equal(paper.variants[0].patch, sixteen.variants[0].patch)


def test_times_spaced_by_a_power_keep_their_ends_and_crowd_the_high_noise():
    even = sampling_times(4, 0.5)
    crowded = sampling_times(4, 0.5, power=1.4)
    assert even.tolist() == [0.5, 0.375, 0.25, 0.125]
    assert (crowded[0], crowded[-1]) == (0.5, 0.125)
    assert np.all(np.diff(crowded) < 0) and np.all(crowded[1:-1] > even[1:-1])
    # The paper's levels stay exactly as they were.
    assert sampling_times(16, 1.0).tolist() == [(16 - k) / 16 for k in range(16)]


def test_steps_are_checked_only_when_given(circle_sketch):
    assert GenerateRequest(sketch=circle_sketch).steps is None
    with pytest.raises(EngineError, match="steps 0 is out of range"):
        GenerateRequest(sketch=circle_sketch, steps=0)
