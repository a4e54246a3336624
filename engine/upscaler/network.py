"""The upsampler network (Keras 3) and the one upscale() shared by training and generation."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from engine.images import darkest_channel
from engine.model import compute_precision
from engine.upscaler.config import UpscalerNetworkConfig


def build_upscaler(config: UpscalerNetworkConfig, precision: str = "float32") -> keras.Model:
    """(stage-1 image on the grid (B, G, G, 3), sketch darkness and blow-up at G*f) -> image.

    The trunk sees the low-resolution colours and the sketch packed into grid cells (a strided
    "patchify" convolution: nearly free, and lossless with as many channels as a cell has
    pixels); rungs of x2 transposed convolutions bring it up, each rung beside the sketch packed
    to its own cells, and at full resolution one convolution next to the sketch's own pixels
    places the edges. The result is a residual over the bicubic blow-up, so an untrained
    network (zero output layer) already gives the plain blow-up.
    """
    with compute_precision(precision):
        return _build(config, precision)


def _build(config: UpscalerNetworkConfig, precision: str) -> keras.Model:
    factor, width = config.factor, config.width
    low = keras.Input((None, None, 3), name="low_on_grid")
    sketch = keras.Input((None, None, 1), name="sketch_darkness")
    base = keras.Input((None, None, 3), name="blown_up")

    packed_sketch = layers.Conv2D(width, factor, strides=factor, name="packed_sketch")(sketch)
    x = layers.Conv2D(width, 3, padding="same", activation="swish")(
        layers.Concatenate()([low, packed_sketch])
    )
    for _ in range(config.blocks):
        residual = x
        x = layers.Conv2D(width, 3, padding="same", activation="swish")(x)
        x = layers.Conv2D(width, 3, padding="same")(x)
        x = layers.Add()([x, residual])
    cell = factor
    for channels in config.ladder:
        # Each rung doubles the resolution and looks again at the sketch packed to its cells.
        cell //= 2
        x = layers.Conv2DTranspose(channels, 2, strides=2)(x)
        packed = layers.Conv2D(channels, cell, strides=cell)(sketch)
        x = layers.Conv2D(channels, 3, padding="same", activation="swish")(
            layers.Concatenate()([x, packed])
        )
    x = layers.Conv2DTranspose(config.refine_width, cell, strides=cell)(x)  # (B, T, T, rw)
    x = layers.Concatenate()([x, sketch, base])
    x = layers.Conv2D(config.refine_width, 3, padding="same", activation="swish")(x)
    # Zero-initialised output: training starts from the bicubic blow-up, a stable point.
    residual = layers.Conv2D(3, 3, padding="same", kernel_initializer="zeros")(x)
    if precision != "float32":
        residual = layers.Activation("linear", dtype="float32")(residual)
    images = layers.Add(name="images", dtype="float32")([base, residual])
    return keras.Model([low, sketch, base], images, name="upscaler")


def upscale(network: keras.Model, low_images, sketch_darkness, training: bool = False):
    """Images at the sketch's resolution in [-1, 1]; the one call training and generation share.

    low_images: (B, s, s, 3) stage-1 images in [-1, 1]; sketch_darkness: (B, T, T, 1) in [0, 1]
    with T a multiple of the network's factor.
    """
    factor = network.get_layer("packed_sketch").strides[0]
    low_images = tf.convert_to_tensor(low_images, tf.float32)
    sketch_darkness = tf.convert_to_tensor(sketch_darkness, tf.float32)
    side = tf.shape(sketch_darkness)[1]
    low_on_grid = resize_images(low_images, side // factor, "bilinear")
    blown_up = resize_images(low_images, side, "bicubic")
    return network([low_on_grid, sketch_darkness, blown_up], training=training)


def resize_images(images, side, method: str):
    """Square resize of (B, s, s, C) or (s, s, C) images: the one resize both uses share."""
    return tf.image.resize(images, tf.stack([side, side]), method=method)


def sketch_darkness(rgb: np.ndarray) -> np.ndarray:
    """The stage's sketch input: 255 - the darkest channel of a sketch on white, (H, W) uint8."""
    return (255 - darkest_channel(np.asarray(rgb))).astype(np.uint8)
