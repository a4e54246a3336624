"""Mask geometry, the constant noise and the schedule: pure NumPy, exact answers."""

import numpy as np
import pytest

from engine.config import NoiseConfig, ScheduleConfig
from engine.diffusion.masks import dilate, ink_of, squared_distance_to_ink
from engine.diffusion.noise import constant_noise, random_noise
from engine.diffusion.schedule import level_time, rates, sampling_times


@pytest.mark.parametrize("radius", [1, 2, 3, 7, 11, 16])
def test_dilation_of_one_pixel_is_the_exact_disk(radius):
    ink = np.zeros((41, 41), bool)
    ink[20, 20] = True
    ys, xs = np.mgrid[:41, :41]
    expected = (ys - 20) ** 2 + (xs - 20) ** 2 <= radius * radius
    np.testing.assert_array_equal(dilate(ink, radius), expected)


def test_distance_transform_matches_brute_force():
    rng = np.random.default_rng(3)
    ink = rng.random((23, 31)) < 0.02
    ink[5, 7] = True
    points = np.argwhere(ink)
    ys, xs = np.mgrid[:23, :31]
    brute = np.min((ys[..., None] - points[:, 0]) ** 2 + (xs[..., None] - points[:, 1]) ** 2, -1)
    np.testing.assert_array_equal(squared_distance_to_ink(ink), brute)


def test_empty_ink_gives_an_empty_mask():
    assert not dilate(np.zeros((16, 16), bool), 16).any()


def test_ink_is_what_differs_from_white():
    image = np.ones((2, 2, 3), np.float32)
    image[0, 0] = 0.1  # dark stroke
    image[0, 1] = (1.0, 1.0, 0.2)  # saturated yellow differs from white too
    image[1, 0] = 0.9  # faint grey paper tone is not ink
    assert ink_of(image).tolist() == [[True, True], [False, False]]


def test_schedule_endpoints_and_variance_preservation():
    config = ScheduleConfig()
    noise, signal = rates(1.0, config)
    assert signal == pytest.approx(config.min_signal_rate)
    noise, signal = rates(0.0, config)
    assert signal == pytest.approx(config.max_signal_rate)
    t = np.linspace(0, 1, 50)
    noise, signal = rates(t, config)
    np.testing.assert_allclose(noise**2 + signal**2, 1.0)
    assert np.all(np.diff(noise) > 0)


def test_sixteen_steps_at_full_strength_are_the_papers_levels():
    config = ScheduleConfig()
    times = sampling_times(config.levels, 1.0)
    expected = [level_time(level, config) for level in range(config.levels)]
    np.testing.assert_allclose(times, expected)
    assert times[0] == 1.0 and level_time(0, config) == 1.0


def test_constant_noise_is_fixed_uniform_and_unit_variance():
    field = constant_noise(NoiseConfig(), 64)
    np.testing.assert_array_equal(field, constant_noise(NoiseConfig(), 64))
    assert abs(field.std() - 1.0) < 0.02
    assert np.abs(field).max() <= np.sqrt(3.0)
    assert not np.array_equal(field, constant_noise(NoiseConfig(constant_seed=1), 64))


def test_random_noise_depends_only_on_the_seed():
    np.testing.assert_array_equal(random_noise(5, 8), random_noise(5, 8))
    assert not np.array_equal(random_noise(5, 8), random_noise(6, 8))
