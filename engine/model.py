"""The U-Net (Keras 3) and the one denoise() shared by training and generation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import numpy as np
from keras import layers, ops

from engine.config import NetworkConfig
from engine.diffusion.colour import HINT_CHANNELS

# Names of the layers the colour hint adds: a network without them loads into one with them.
HINT_LAYERS = ("colour_hint_hidden", "colour_hint_out")

# Compute precisions: Keras dtype policy of each (weights stay float32 in both).
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


@keras.saving.register_keras_serializable(package="sketch_variants")
class SinusoidalEmbedding(layers.Layer):
    """Embeds the noise variance (B, 1, 1, 1) as sines and cosines of log-spaced frequencies."""

    def __init__(self, dims: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dims = dims

    def call(self, noise_variances):
        frequencies = ops.exp(ops.linspace(ops.log(1.0), ops.log(1000.0), self.dims // 2))
        angular_speeds = ops.cast(2.0 * np.pi * frequencies, noise_variances.dtype)
        return ops.concatenate(
            [ops.sin(angular_speeds * noise_variances), ops.cos(angular_speeds * noise_variances)],
            axis=-1,
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}


@keras.saving.register_keras_serializable(package="sketch_variants")
class VelocityToImage(layers.Layer):
    """The clean image from a predicted velocity where the mask is (x0 = s * x - n * v), and the
    network's output itself outside it, where the constant background hides no picture."""

    def call(self, inputs):
        noisy_images, mask, noise_variances, output = (ops.cast(t, "float32") for t in inputs)
        noise_rates = ops.sqrt(noise_variances)
        signal_rates = ops.sqrt(1.0 - noise_variances)
        images = signal_rates * noisy_images - noise_rates * output
        return mask * images + (1.0 - mask) * output


def _residual_block(x, width: int):
    residual = x if x.shape[-1] == width else layers.Conv2D(width, 1)(x)
    x = layers.BatchNormalization(center=False, scale=False)(x)
    x = layers.Conv2D(width, 3, padding="same", activation="swish")(x)
    x = layers.Conv2D(width, 3, padding="same")(x)
    return layers.Add()([x, residual])


def build_network(config: NetworkConfig, precision: str = "float32") -> keras.Model:
    """U-Net: (noisy images, mask, noise variances[, colour hint]) -> predicted clean images.

    The mask channel tells the network where the random noise is (1) and where the constant
    background is (0), so it does not have to infer the border from noise statistics.
    precision "bfloat16" computes in bfloat16 with float32 weights (same weight files).
    """
    with compute_precision(precision):
        return _build_unet(config, precision)


@contextmanager
def compute_precision(precision: str) -> Iterator[None]:
    """Build layers that compute in `precision` ("float32" or "bfloat16"; weights stay float32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _build_unet(config: NetworkConfig, precision: str) -> keras.Model:
    size = config.image_size
    noisy_images = keras.Input((size, size, 3), name="noisy_images")
    mask = keras.Input((size, size, 1), name="mask")
    noise_variances = keras.Input((1, 1, 1), name="noise_variances")

    embedding = SinusoidalEmbedding(config.embedding_dims)(noise_variances)
    embedding = layers.UpSampling2D(size=size, interpolation="nearest")(embedding)
    # A strided "patchify" stem: the U-Net works at 1/patch_size resolution, which cuts its cost
    # by patch_size**2 while the stem and head keep every pixel.
    inputs = layers.Concatenate()([noisy_images, mask])
    x = layers.Conv2D(config.widths[0], config.patch_size, strides=config.patch_size)(inputs)
    embedding = layers.AveragePooling2D(pool_size=config.patch_size)(embedding)
    inputs = [noisy_images, mask, noise_variances]
    if config.colour_hint:
        # The hint joins as an offset of the stem's features; zero-initialised, so a network
        # given the hint starts exactly where one without it stood (fine-tuning adds it).
        hint = keras.Input((1, 1, HINT_CHANNELS), name="colour_hint")
        inputs.append(hint)
        offset = layers.Dense(64, activation="swish", name=HINT_LAYERS[0])(hint)
        offset = layers.Dense(config.widths[0], kernel_initializer="zeros", name=HINT_LAYERS[1])(
            offset
        )
        offset = layers.UpSampling2D(size=size // config.patch_size)(offset)
        x = layers.Add()([x, offset])
    x = layers.Concatenate()([x, embedding])

    skips = []
    for width in config.widths[:-1]:
        for _ in range(config.block_depth):
            x = _residual_block(x, width)
            skips.append(x)
        x = layers.AveragePooling2D(pool_size=2)(x)
    for _ in range(config.block_depth):
        x = _residual_block(x, config.widths[-1])
    for width in reversed(config.widths[:-1]):
        x = layers.UpSampling2D(size=2, interpolation="bilinear")(x)
        for _ in range(config.block_depth):
            x = layers.Concatenate()([x, skips.pop()])
            x = _residual_block(x, width)

    # Zero-initialised output: training starts from "predict grey", a stable point.
    output = layers.Conv2DTranspose(
        3,
        config.patch_size,
        strides=config.patch_size,
        kernel_initializer="zeros",
        name="pred_images",
    )(x)
    if precision != "float32":
        output = layers.Activation("linear", dtype="float32")(output)
    if config.prediction == "v":
        output = VelocityToImage(name="velocity_to_image")(
            [noisy_images, mask, noise_variances, output]
        )
    return keras.Model(inputs, output, name="unet")


def takes_hint(network: keras.Model) -> bool:
    """Whether the network has the colour hint input."""
    return len(network.inputs) == 4


def denoise(
    network: keras.Model, noisy_images, masks, noise_rates, hints=None, training: bool = False
):
    """Predicted clean images in [-1, 1] from noisy ones; the one parameterisation (x0) we use.

    hints: (B, 1, 1, 4) colour hints (engine.diffusion.colour) for a network that takes them;
    None gives such a network no hint.
    """
    inputs = [noisy_images, masks, noise_rates**2]
    if takes_hint(network):
        if hints is None:
            hints = ops.zeros((ops.shape(noisy_images)[0], 1, 1, HINT_CHANNELS))
        # Keras refuses a mix of arrays and tensors in one call.
        inputs = [ops.convert_to_tensor(value) for value in [*inputs, hints]]
    return network(inputs, training=training)


def transfer_weights(source: keras.Model, target: keras.Model) -> None:
    """Copy a network's weights into one of the same shape plus the colour hint's layers."""
    sources = [layer for layer in source.layers if layer.weights]
    targets = [layer for layer in target.layers if layer.weights and layer.name not in HINT_LAYERS]
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} layers with weights do not match {len(targets)}")
    for old, new in zip(sources, targets, strict=True):
        new.set_weights(old.get_weights())
