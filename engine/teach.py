"""Teaching the engine an artist's drawings from the server: previews of the model being trained.

(The training itself is engine.training's, the path of `python -m engine train`.)
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from engine.data.folder import drawing_files, fit_on_white
from engine.data.strokes import sketch_from_drawing
from engine.images import encode_png, opaque, read_image

PREVIEW_COUNT = 4  # variants in a preview


# One preview engine per stage-1 trainer: it shares the trainer's EMA network, so each preview
# draws with the latest weights without tracing the model again.
_PREVIEW_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def preview_pngs(trainer: Any, drawings_dir: Path) -> list[bytes]:
    """A few variants (PNG) of the first drawing's sketch, drawn by the model being trained."""
    from engine.pipeline import Engine
    from engine.request import GenerateRequest

    engine = _PREVIEW_ENGINES.get(trainer)
    if engine is None:
        engine = Engine(trainer.ema_network, trainer.config, "training", "float32")
        _PREVIEW_ENGINES[trainer] = engine
    drawing = fit_on_white(read_image(drawing_files(drawings_dir)[0], engine.size), engine.size)
    sketch = sketch_from_drawing(drawing)
    layer = opaque(sketch)
    # The model's own steps (few, for a model with a few-step path): what the artist will get.
    request = GenerateRequest(sketch=layer, count=PREVIEW_COUNT, seed=0, upscale=False)
    return [encode_png(variant.image) for variant in engine.generate(request).variants]
