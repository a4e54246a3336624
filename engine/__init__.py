"""Sketch Variants engine: noise-mask diffusion that turns a rough sketch into detailed variants."""

__version__ = "0.1.0"
