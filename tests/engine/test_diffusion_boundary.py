"""The diffusion package is pure array math: importing it must not load TensorFlow or Keras."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import engine.diffusion

ROOT = Path(__file__).resolve().parents[2]


def test_the_diffusion_package_imports_without_tensorflow_or_keras() -> None:
    modules = [
        f"engine.diffusion.{info.name}" for info in pkgutil.iter_modules(engine.diffusion.__path__)
    ]
    assert {"engine.diffusion.sampler", "engine.diffusion.method"} <= set(modules)
    # A fresh interpreter: this test process has TensorFlow loaded by other tests already.
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
