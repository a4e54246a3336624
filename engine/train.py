"""Training with the paper's recipe: noise masks of random radius, constant-noise background."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from engine.config import ModelConfig
from engine.diffusion.colour import hint_input, main_colour, palette_of
from engine.diffusion.guidance import guided_prediction
from engine.diffusion.masks import ink_of, squared_distance_to_ink, within_radius
from engine.diffusion.method import keep_background, mask_guide, noise_at
from engine.diffusion.noise import constant_noise
from engine.diffusion.schedule import rates
from engine.errors import EngineError
from engine.model import build_network, denoise, takes_hint, transfer_weights
from engine.pipeline import compiled_denoiser
from engine.progress import BetweenSteps
from engine.trainer import EmaTrainer, progress_line, run_training
from engine.weights import MODEL_FORMAT, load_model

WHITE = 1.0  # the background in the network's [-1, 1] range
# Levels a sketch-started example begins at (TrainConfig.sketch_start): the mask mode's starts
# an artist can pick below pure noise, around the default 0.85 (engine.request.DEFAULT_STRENGTH).
SKETCH_START_TIMES = (0.7, 1.0)


@dataclass(frozen=True)
class TrainingSet:
    """Drawings in the network's range and, per drawing, squared distances to its sketch's ink."""

    images: np.ndarray  # (N, S, S, 3) float32 in [-1, 1]
    sketches: np.ndarray  # (N, S, S, 3) uint8 on white, each drawing's sketch
    squared_distances: np.ndarray  # (N, S, S) int32: where a mask of radius r is d2 <= r*r
    hints: np.ndarray  # (N, 1, 1, 4) float32: each drawing's main colour as the network's hint


@dataclass(frozen=True)
class Batch:
    """One training batch: the network's inputs and its target."""

    noisy_images: np.ndarray  # (B, S, S, 3)
    masks: np.ndarray  # (B, S, S, 1): 1 = random noise, 0 = constant background
    noise_rates: np.ndarray  # (B, 1, 1, 1)
    targets: np.ndarray  # (B, S, S, 3): the drawing inside the mask, white outside
    hints: np.ndarray  # (B, 1, 1, 4): the drawing's main colour, or zeros (no hint)
    loss_weights: np.ndarray  # (B, S, S, 1): each pixel's weight in the L2 loss on the image


def prepare_training_set(drawings: np.ndarray, sketches: np.ndarray) -> TrainingSet:
    """Scale drawings to [-1, 1]; precompute each sketch's distance map (so masks are cheap)
    and each drawing's main colour."""
    images = drawings.astype(np.float32) / 127.5 - 1.0
    distances = np.stack(
        [squared_distance_to_ink(ink_of(sketch.astype(np.float32) / 255.0)) for sketch in sketches]
    ).astype(np.int32)
    hints = np.stack([hint_input(main_colour(drawing / 255.0)) for drawing in drawings])
    return TrainingSet(images, sketches.astype(np.uint8), distances, hints)


def with_palette(config: ModelConfig, drawings: np.ndarray) -> ModelConfig:
    """The config with the training drawings' main colours as its palette (for hinted models)."""
    if not config.network.colour_hint:
        return config
    palette = palette_of(drawings.astype(np.float32) / 255.0)
    return dataclasses.replace(config, colour=dataclasses.replace(config.colour, palette=palette))


def make_batch(
    data: TrainingSet, config: ModelConfig, constant: np.ndarray, rng: np.random.Generator
) -> Batch:
    """A batch the paper's way: random radius, random level, constant noise outside the mask."""
    recipe = config.train
    batch_size = recipe.batch_size
    index = rng.integers(len(data.images), size=batch_size)
    images = data.images[index]
    distances = data.squared_distances[index]
    # Mirrored eyes are still eyes: doubles the data for free.
    flip = rng.random(batch_size) < 0.5
    images[flip] = images[flip, :, ::-1]
    distances[flip] = distances[flip, :, ::-1]

    radii = rng.integers(recipe.radius_min, recipe.radius_max + 1, size=batch_size)
    full = rng.random(batch_size) < (1.0 if recipe.recipe == "full" else recipe.full_mask_fraction)
    masks = within_radius(distances, radii[:, None, None]) | full[:, None, None]
    masks = masks[..., None].astype(np.float32)  # (B, S, S, 1)

    times = rng.random(batch_size).reshape(-1, 1, 1, 1)
    noised = images
    if recipe.sketch_start > 0:  # no draws otherwise: a recipe without it samples as before
        from_sketch = (rng.random(batch_size) < recipe.sketch_start) & ~full
        low, high = SKETCH_START_TIMES
        times[from_sketch] = rng.uniform(low, high, size=(int(from_sketch.sum()), 1, 1, 1))
        sketches = data.sketches[index[from_sketch]].astype(np.float32) / 127.5 - 1.0
        sketches[flip[from_sketch]] = sketches[flip[from_sketch], :, ::-1]
        noised = images.copy()
        noised[from_sketch] = mask_guide(sketches)
    noise_rates = rates(times, config.schedule)[0].astype(np.float32)  # (B, 1, 1, 1)
    noises = rng.standard_normal(images.shape, dtype=np.float32)
    noisy_images = noise_at(noised, noises, times, config.schedule)
    noisy_images = keep_background(noisy_images, masks, constant).astype(np.float32)
    targets = keep_background(images, masks, WHITE)
    hints = data.hints[index].copy()
    hints[rng.random(batch_size) < config.colour.hint_dropout] = 0.0
    weights = loss_weights(masks, noise_rates, targets, config)
    return Batch(noisy_images, masks, noise_rates, targets, hints, weights)


def loss_weights(
    masks: np.ndarray, noise_rates: np.ndarray, targets: np.ndarray, config: ModelConfig
) -> np.ndarray:
    """Per-pixel weights of the loss on the clean image: (B, S, S, 1).

    So that it is the loss on what the network predicts: 1 for x0; for v, 1 / noise_rate**2
    inside the mask (an error of e in v is one of noise_rate * e in the image), else low-noise
    steps learn too little and leave noise in the last step's image; outside the mask the
    network predicts the image itself. Times 1 + colour_weight * the target's chroma, the
    strongest within colour_reach pixels.
    """
    weights = np.ones_like(masks)
    if config.network.prediction == "v":
        weights = masks / np.square(noise_rates) + (1.0 - masks)
    if config.train.colour_weight > 0:
        chroma = (targets.max(axis=-1, keepdims=True) - targets.min(axis=-1, keepdims=True)) / 2
        chroma = nearby_maximum(chroma, config.train.colour_reach)
        weights = weights * (1.0 + config.train.colour_weight * chroma)
    return weights.astype(np.float32)


def nearby_maximum(values: np.ndarray, reach: int) -> np.ndarray:
    """Each pixel of (B, S, S, C) values replaced by the maximum within `reach` pixels along
    each axis (a square window), the image's edge repeated beyond it."""
    if reach == 0:
        return values
    side = values.shape[1]
    padded = np.pad(values, ((0, 0), (reach, reach), (0, 0), (0, 0)), mode="edge")
    rows = np.max([padded[:, i : i + side] for i in range(2 * reach + 1)], axis=0)
    padded = np.pad(rows, ((0, 0), (0, 0), (reach, reach), (0, 0)), mode="edge")
    return np.max([padded[:, :, i : i + side] for i in range(2 * reach + 1)], axis=0)


class Trainer(EmaTrainer):
    """Stage 1: the noise-mask diffusion model, trained the paper's way."""

    document_format = MODEL_FORMAT

    def __init__(self, config: ModelConfig, data: TrainingSet, out_dir: Path) -> None:
        keras.utils.set_random_seed(config.train.seed)  # the same initial weights for a seed
        super().__init__(
            config, build_network(config.network), build_network(config.network), out_dir
        )
        self.data = data
        self.constant = constant_noise(config.noise, config.network.image_size)

    def make_batch(self, rng: np.random.Generator):
        batch = make_batch(self.data, self.config, self.constant, rng)
        inputs = (batch.noisy_images, batch.masks, batch.noise_rates, batch.hints)
        return inputs, (batch.targets, batch.loss_weights)

    def predict(self, network, inputs, training: bool):
        noisy_images, masks, noise_rates, hints = inputs
        return denoise(network, noisy_images, masks, noise_rates, hints, training=training)

    def loss(self, predictions, targets):
        images, weights = targets
        # L2, not L1: L1's per-pixel median on line art is the white page (blank outputs).
        return tf.reduce_mean(weights * tf.square(predictions - images))

    def start_from(self, model_dir: Path) -> None:
        """Start from a trained model's weights (fine-tuning); a model without the colour hint
        gives a hinted network all its weights, and the hint starts at zero effect; a model of
        another prediction gives all but its last layer."""
        network, config = load_model(model_dir)
        if takes_hint(network) != takes_hint(self.network):
            if not self.config.network.colour_hint:
                raise EngineError(f"{model_dir} takes a colour hint: fine-tune it with the hint")
            hinted = build_network(self.config.network)
            transfer_weights(network, hinted)
            network = hinted
        if config.network.prediction != self.config.network.prediction:
            # The last layer's output means something else now: it starts from zero again (in
            # the mask, v = 0 is x0 = signal * noisy image), the features below it are kept.
            head = network.get_layer("pred_images")
            head.set_weights([np.zeros_like(weight) for weight in head.get_weights()])
        self._start_from_network(network, model_dir)


class GuidanceDistiller(Trainer):
    """Stage 1 taught to draw in one network call what the model it starts from (the teacher,
    frozen) draws under colour guidance in two (guidance distillation, Meng et al. 2023, at one
    fixed scale): the same noisy inputs as training on drawings, but the targets are the
    teacher's guided predictions inside the mask. Examples without a hint learn the teacher's
    plain prediction, so the network still draws without one."""

    def __init__(
        self, config: ModelConfig, data: TrainingSet, out_dir: Path, teacher: keras.Model
    ) -> None:
        super().__init__(config, data, out_dir)
        self._teacher = compiled_denoiser(teacher)

    def make_batch(self, rng: np.random.Generator):
        inputs, (targets, weights) = super().make_batch(rng)
        noisy_images, masks, noise_rates, hints = inputs
        guided = guided_prediction(
            self._teacher,
            noisy_images,
            masks,
            noise_rates,
            hints,
            self.config.train.distilled_guidance,
        )
        return inputs, (np.where(masks > 0, guided, targets).astype(np.float32), weights)


def train(
    config: ModelConfig,
    data: TrainingSet,
    out_dir: Path,
    from_dir: Path | None = None,
    checkpoint_every: int = 250,
    report: Callable[[str], None] | None = None,
    between_steps: BetweenSteps | None = None,
) -> Trainer:
    """Train to config.train.steps, resuming from out_dir's checkpoint when there is one; with
    config.train.distilled_guidance above 1, distil from_dir's guided drawings instead."""
    report = report or progress_line
    trainer: Trainer
    if config.train.distilled_guidance != 1.0:
        if from_dir is None:
            raise EngineError("distilling colour guidance needs the model to learn it from")
        teacher, teacher_config = load_model(from_dir)
        if not teacher_config.network.colour_hint:
            raise EngineError(f"{from_dir} takes no colour hint: there is no guidance to distil")
        trainer = GuidanceDistiller(config, data, out_dir, teacher)
    else:
        trainer = Trainer(config, data, out_dir)
    trainer.resume_or_start(from_dir, report)
    run_training(trainer, checkpoint_every, report, between_steps=between_steps)
    return trainer


def config_for(base: ModelConfig, **train_overrides) -> ModelConfig:
    """`base` with some training fields replaced."""
    return dataclasses.replace(base, train=dataclasses.replace(base.train, **train_overrides))
