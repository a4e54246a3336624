"""Names of the layers and groups the plugin creates."""

from __future__ import annotations


def group_name(layer_name: str) -> str:
    """The group holding the variants of `layer_name`."""
    return f"{layer_name} - variants"


def variant_name(layer_name: str, number: int, seed: int, radius: int) -> str:
    """A variant layer's name, with the seed so the artist can regenerate it."""
    return f"{layer_name} - variant {number} (seed {seed}, r {radius})"


def live_name(layer_name: str) -> str:
    """The one layer showing the live variant of `layer_name`."""
    return f"{layer_name} - live"
