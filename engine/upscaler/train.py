"""Training the upsampling stage: L1 plus an edge term on crops of high-resolution drawings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from engine.images import LUMA_WEIGHTS
from engine.progress import BetweenSteps
from engine.trainer import EmaTrainer, progress_line, run_training
from engine.upscaler.config import UpscalerConfig
from engine.upscaler.data import HighResDrawing, make_upscaler_batch
from engine.upscaler.network import build_upscaler, resize_images
from engine.weights import UPSCALER_DIR, UPSCALER_FORMAT, load_upscaler


class UpscalerTrainer(EmaTrainer):
    """Stage 2: (degraded 64 px drawing, its sketch at full size) -> the drawing at full size."""

    document_format = UPSCALER_FORMAT

    def __init__(
        self, config: UpscalerConfig, drawings: list[HighResDrawing], out_dir: Path
    ) -> None:
        keras.utils.set_random_seed(config.train.seed)
        super().__init__(
            config, build_upscaler(config.network), build_upscaler(config.network), out_dir
        )
        self.drawings = drawings

    def make_batch(self, rng: np.random.Generator):
        batch = make_upscaler_batch(
            self.drawings, self.config.train, self.config.network.factor, rng, resize_images
        )
        return (batch.low_on_grid, batch.darkness, batch.blown_up), batch.targets

    def predict(self, network, inputs, training: bool):
        return network(list(inputs), training=training)

    def loss(self, predictions, targets):
        # L1 keeps edges sharp where L2 would average them; the gradient term rewards edges
        # that are as steep as the drawing's, at the right place.
        l1 = tf.reduce_mean(tf.abs(predictions - targets))
        edges = sum(
            tf.reduce_mean(tf.abs(_difference(predictions, axis) - _difference(targets, axis)))
            for axis in (1, 2)
        )
        steepness = tf.reduce_mean(
            tf.abs(
                steepest_gradients(predictions, self.config.train.steepest_share)
                - steepest_gradients(targets, self.config.train.steepest_share)
            )
        )
        return (
            l1
            + self.config.train.edge_weight * edges
            + self.config.train.steepness_weight * steepness
        )

    def start_from(self, model_dir: Path) -> None:
        """Start from a model folder's upsampler (fine-tuning); model_dir holds `upscaler/`."""
        self._start_from_network(load_upscaler(model_dir)[0], Path(model_dir) / UPSCALER_DIR)


def train_upscaler(
    config: UpscalerConfig,
    drawings: list[HighResDrawing],
    out_dir: Path,
    from_dir: Path | None = None,
    checkpoint_every: int = 250,
    report: Callable[[str], None] | None = None,
    between_steps: BetweenSteps | None = None,
) -> UpscalerTrainer:
    """Train the stage into out_dir (a model folder's `upscaler/`), resuming when possible."""
    report = report or progress_line
    trainer = UpscalerTrainer(config, drawings, out_dir)
    trainer.resume_or_start(from_dir, report)
    run_training(trainer, checkpoint_every, report, "upscaler step", between_steps, "upscaler")
    return trainer


def _difference(images, axis: int):
    if axis == 1:
        return images[:, 1:] - images[:, :-1]
    return images[:, :, 1:] - images[:, :, :-1]


def steepest_gradients(images: tf.Tensor, share: float) -> tf.Tensor:
    """Per image, its gradient magnitudes' top `share` in descending order: (B, k), placeless."""
    luminance = tf.tensordot(images, tf.constant(LUMA_WEIGHTS), axes=[[3], [0]])
    across = luminance[:, :-1, 1:] - luminance[:, :-1, :-1]
    down = luminance[:, 1:, :-1] - luminance[:, :-1, :-1]
    magnitude = tf.reshape(tf.sqrt(across**2 + down**2 + 1e-8), (tf.shape(images)[0], -1))
    count = tf.maximum(1, tf.cast(tf.cast(tf.shape(magnitude)[1], tf.float32) * share, tf.int32))
    return tf.math.top_k(magnitude, count).values
