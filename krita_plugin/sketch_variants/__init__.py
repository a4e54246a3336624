"""Sketch Variants: detailed variants of a rough sketch, as new layers, from a local engine."""

from __future__ import annotations

try:
    from .extension import register
except ImportError as error:
    # Outside Krita (tests, the installer) there is no `krita` module with Krita's classes: the
    # package imports without registering itself, so its plain modules stay usable. Any other
    # missing module is a broken plugin, and says so.
    if error.name != "krita":
        raise
else:
    CONTROLLER = register()
