"""Sketch Variants: detailed variants of a rough sketch, as new layers, from a local engine."""

from __future__ import annotations

import importlib.util
import sys


def _inside_krita() -> bool:
    """True when a real `krita` module is importable (Krita's, or a test's stand-in)."""
    module = sys.modules.get("krita")
    spec = module.__spec__ if module is not None else importlib.util.find_spec("krita")
    # A mere folder named krita on sys.path (this repository's tests/krita, say) is a namespace
    # package without an origin, not Krita.
    return spec is not None and spec.origin is not None


# Inside Krita the plugin registers itself; elsewhere (tests, the installer) the package imports
# without doing so, so its plain modules stay usable.
if _inside_krita():
    from .extension import register

    CONTROLLER = register()
