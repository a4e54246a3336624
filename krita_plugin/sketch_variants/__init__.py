"""Sketch Variants: detailed variants of a rough sketch, as new layers, from a local engine."""

from __future__ import annotations

import importlib.util
import sys

# Inside Krita the `krita` module exists and the plugin registers itself; elsewhere (tests,
# tooling) the package imports without it, so its plain modules stay usable.
if "krita" in sys.modules or importlib.util.find_spec("krita") is not None:
    from .extension import register

    CONTROLLER = register()
