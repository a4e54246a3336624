"""The DDIM sampler against an analytic denoiser: exact answers, no model."""

import numpy as np
import pytest

from engine.config import ScheduleConfig
from engine.diffusion.sampler import sample_ddim
from engine.diffusion.schedule import rates, sampling_times
from engine.errors import Cancelled

SCHEDULE = ScheduleConfig()


def test_perfect_denoiser_gives_back_the_clean_image():
    rng = np.random.default_rng(0)
    clean = rng.uniform(-1, 1, (2, 8, 8, 3))
    noise = rng.standard_normal(clean.shape)
    times = sampling_times(16, 1.0)
    noise_rate, signal_rate = rates(times[0], SCHEDULE)
    start = signal_rate * clean + noise_rate * noise

    def perfect(images, rate):
        return clean  # knows the answer at every level

    result = sample_ddim(perfect, start, times, SCHEDULE, np.ones((1, 8, 8, 1)), 0.0)
    np.testing.assert_array_equal(result, clean)


def test_outside_the_region_the_input_is_always_the_background():
    rng = np.random.default_rng(1)
    region = np.zeros((1, 8, 8, 1))
    region[:, 2:6, 2:6] = 1.0
    background = rng.uniform(-1, 1, (8, 8, 3))
    seen = []

    def recording(images, rate):
        seen.append(images.copy())
        return np.full_like(images, 0.5)

    start = region * rng.standard_normal((3, 8, 8, 3)) + (1 - region) * background
    sample_ddim(recording, start, sampling_times(16, 1.0), SCHEDULE, region, background)
    assert len(seen) == 16
    outside = np.broadcast_to(region == 0, seen[0].shape)
    for images in seen:
        np.testing.assert_array_equal(
            images[outside], np.broadcast_to(background, images.shape)[outside]
        )
    # Inside, the images move towards the prediction as the noise falls.
    assert not np.array_equal(seen[0][~outside], seen[-1][~outside])


def test_progress_reports_every_step_and_cancel_stops_between_steps():
    steps = []
    x = np.zeros((1, 4, 4, 3))
    sample_ddim(
        lambda images, rate: images,
        x,
        sampling_times(5, 1.0),
        SCHEDULE,
        np.ones((1, 4, 4, 1)),
        0.0,
        on_step=lambda k, n: steps.append((k, n)),
    )
    assert steps == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]

    calls = []

    def denoiser(images, rate):
        calls.append(rate)
        return images

    with pytest.raises(Cancelled):
        sample_ddim(
            denoiser,
            x,
            sampling_times(5, 1.0),
            SCHEDULE,
            np.ones((1, 4, 4, 1)),
            0.0,
            should_cancel=lambda: len(calls) >= 2,
        )
    assert len(calls) == 2
