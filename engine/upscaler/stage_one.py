"""Stage 1's own versions of the training drawings: the inputs the upsampler must learn to fix.

Blur and noise alone do not look like what the diffusion model hands the upsampler: its
variants have blotchy fills, grey smudges and lines a pixel off. As cascaded diffusion models
do, the upsampler also trains on the first model's own output: each drawing noised part of the
way (SDEdit's strength) and denoised by stage 1 with the paper's mask, exactly as generation
runs (the engine's own sampling step: its solver and step count, the mask from the sketch
shrunk as generation shrinks it), so the result keeps the drawing's content (the target still
fits) with stage 1's flaws.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.config import ModelConfig
from engine.diffusion.colour import hint_input, main_colour
from engine.diffusion.masks import dilate
from engine.diffusion.method import keep_background, noise_at
from engine.diffusion.schedule import sampling_times
from engine.framing import at_model_size, model_ink
from engine.request import DEFAULT_RADIUS
from engine.upscaler.config import UpscalerTrainConfig
from engine.upscaler.data import HighResDrawing


def with_stage_one_guesses(
    drawings: list[HighResDrawing],
    network,
    config: ModelConfig,
    recipe: UpscalerTrainConfig,
    seed: int,
    batch_size: int = 64,
) -> list[HighResDrawing]:
    """The drawings, each with up to `recipe.stage_one_per_drawing` stage-1 re-drawings of its
    64 px version, at the recipe's strengths, those that departed too far dropped."""
    from engine.pipeline import Engine  # TensorFlow: only when a training needs it

    # Sampled as generation samples the model (its config's solver and steps): the flaws of the
    # steps artists get.
    engine = Engine(network, config, name="stage one", precision="float32")
    rng = np.random.default_rng([seed, 7])
    size = config.network.image_size
    # Shuffled, so a drawing's re-drawings fall in different batches, each at its own strength.
    jobs = rng.permutation(np.repeat(np.arange(len(drawings)), recipe.stage_one_per_drawing))
    guesses: list[list[np.ndarray]] = [[] for _ in drawings]
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start : start + batch_size]
        images = np.stack([drawings[index].low for index in chunk])
        regions = np.stack([_region(drawings[index], size) for index in chunk])
        noises = rng.standard_normal(images.shape).astype(np.float32)
        strength = rng.uniform(recipe.stage_one_strength_min, recipe.stage_one_strength_max)
        redrawn = _redraw(engine, images, regions, noises, strength)
        for index, image in zip(chunk, redrawn, strict=True):
            matched = matched_colours(image, drawings[index].low)
            if np.abs(matched - drawings[index].low).mean() <= recipe.stage_one_departure:
                guesses[index].append(matched)
    return [
        replace(drawing, stage_one=np.stack(found).astype(np.float32) if found else None)
        for drawing, found in zip(drawings, guesses, strict=True)
    ]


def matched_colours(image: np.ndarray, drawing: np.ndarray) -> np.ndarray:
    """The re-drawing with each channel's gain and offset fitted to the drawing's (least squares).

    Stage 1 may move a colour as a whole (a green iris greyed); the upsampler cannot know the
    colour the drawing had, so it learns only to fix the local flaws, never to repaint.
    """
    out = np.empty_like(image)
    for channel in range(image.shape[-1]):
        source = image[..., channel].ravel()
        design = np.stack([source, np.ones_like(source)], axis=1)
        (gain, offset), *_ = np.linalg.lstsq(design, drawing[..., channel].ravel(), rcond=None)
        out[..., channel] = gain * image[..., channel] + offset
    return np.clip(out, -1.0, 1.0)


def _region(drawing: HighResDrawing, size: int) -> np.ndarray:
    """Where generation lets the model draw: the sketch's ink at the model's size, shrunk as
    generation shrinks it (strokes kept dark), dilated by the default radius."""
    flat = np.repeat((255 - drawing.darkness)[..., None], 3, axis=-1)
    grey = at_model_size(flat, size).astype(np.float32) / 255.0
    return dilate(model_ink(grey), DEFAULT_RADIUS).astype(np.float32)[..., None]


def _redraw(engine, images, regions, noises, strength: float) -> np.ndarray:
    schedule = engine.config.schedule
    sampling = engine.config.sampling
    steps = max(1, round(sampling.steps * strength))
    times = sampling_times(steps, strength, sampling.time_power)
    start = keep_background(noise_at(images, noises, times[0], schedule), regions, engine.constant)
    # Each drawing's own main colour as the hint (models with one), as an artist's pick would be.
    hints = np.stack([hint_input(main_colour((image + 1.0) / 2.0)) for image in images])
    hints = hints.astype(np.float32)
    return engine.sample_images(start.astype(np.float32), regions, hints, times, sampling)
