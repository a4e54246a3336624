"""The solvers against analytic denoisers: exact answers, no model."""

import numpy as np
import pytest

from engine.config import ScheduleConfig
from engine.diffusion.sampler import sample
from engine.diffusion.schedule import rates, sampling_times
from engine.errors import Cancelled

SCHEDULE = ScheduleConfig()


@pytest.mark.parametrize("solver", ["ddim", "dpm++2m"])
def test_perfect_denoiser_gives_back_the_clean_image(solver):
    rng = np.random.default_rng(0)
    clean = rng.uniform(-1, 1, (2, 8, 8, 3))
    noise = rng.standard_normal(clean.shape)
    times = sampling_times(16, 1.0)
    noise_rate, signal_rate = rates(times[0], SCHEDULE)
    start = signal_rate * clean + noise_rate * noise

    def perfect(images, rate):
        return clean  # knows the answer at every level

    result = sample(perfect, start, times, SCHEDULE, np.ones((1, 8, 8, 1)), 0.0, solver=solver)
    np.testing.assert_array_equal(result, clean)


@pytest.mark.parametrize("solver", ["ddim", "dpm++2m"])
def test_outside_the_region_the_input_is_always_the_background(solver):
    rng = np.random.default_rng(1)
    region = np.zeros((1, 8, 8, 1))
    region[:, 2:6, 2:6] = 1.0
    background = rng.uniform(-1, 1, (8, 8, 3))
    seen = []

    def recording(images, rate):
        seen.append(images.copy())
        return np.full_like(images, 0.5)

    start = region * rng.standard_normal((3, 8, 8, 3)) + (1 - region) * background
    sample(recording, start, sampling_times(16, 1.0), SCHEDULE, region, background, solver=solver)
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
    sample(
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
        sample(
            denoiser,
            x,
            sampling_times(5, 1.0),
            SCHEDULE,
            np.ones((1, 4, 4, 1)),
            0.0,
            should_cancel=lambda: len(calls) >= 2,
        )
    assert len(calls) == 2


def _gaussian_denoiser(mean: float, spread: float):
    """The exact clean-image prediction E[x0 | x_t] for data x0 ~ N(mean, spread**2) per pixel."""

    def predict(images, noise_rate):
        signal_rate = np.sqrt(1.0 - noise_rate**2)
        gain = signal_rate * spread**2 / (signal_rate**2 * spread**2 + noise_rate**2)
        return mean + gain * (images - signal_rate * mean)

    return predict


def test_the_second_order_solver_converges_at_second_order():
    # The probability-flow ODE of Gaussian data has an exact answer; 4000 DDIM steps to the same
    # last time stand in for it. DDIM's error halves with twice the steps (first order),
    # DPM-Solver++(2M)'s falls four times (second order), and it is nearer at 4 steps already.
    denoiser = _gaussian_denoiser(mean=0.3, spread=0.5)
    start = np.random.default_rng(2).standard_normal((1, 8, 8, 3))
    region = np.ones((1, 8, 8, 1))
    first, last = sampling_times(4, 1.0)[[0, -1]]

    def error(steps, solver):
        times = np.linspace(first, last, steps)
        return np.abs(sample(denoiser, start, times, SCHEDULE, region, 0.0, solver=solver) - exact)

    exact = sample(denoiser, start, np.linspace(first, last, 4000), SCHEDULE, region, 0.0)
    ddim = [error(steps, "ddim").mean() for steps in (4, 8, 16)]
    dpm = [error(steps, "dpm++2m").mean() for steps in (4, 8, 16)]
    assert dpm[0] < 0.8 * ddim[0], (dpm, ddim)
    assert 1.7 < ddim[1] / ddim[2] < 2.5, ddim
    assert dpm[1] / dpm[2] > 3.5, dpm


def test_an_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="unknown solver 'euler'"):
        sample(lambda x, r: x, np.zeros((1, 2, 2, 3)), np.array([1.0]), SCHEDULE, 1.0, 0.0, "euler")
