"""Teaching the engine an artist's drawings from the server: the `train` command's own path.

The server writes the drawings into a folder and calls the same `train_model` as
`python -m engine train DATA_DIR --from MODEL`, so both stages learn from them the same way.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.folder import drawing_files, fit_on_white
from engine.data.strokes import extract_strokes, sketch_from_drawing
from engine.images import decode_image, encode_png, read_image
from engine.progress import BetweenSteps

CHECK_SIZE = 64  # a drawing is checked for lines at the model's size, where it is trained
PREVIEW_COUNT = 4  # variants in a preview
PREVIEW_STEPS = 8  # denoising steps of a preview: enough to see the style arrive, and cheap


@dataclass(frozen=True)
class TrainOptions:
    """The `train` command's options (the same names as its arguments), for other callers."""

    data_dir: Path | None  # folder of drawings
    out: Path  # model folder to write (its checkpoints make a rerun resume)
    from_dir: Path | None = None  # model folder to fine-tune
    stage: str = "both"  # "both", "diffusion" or "upscaler"
    steps: int | None = None  # diffusion steps; None: the config's
    upscaler_steps: int | None = None  # upsampler steps; None: 300 when fine-tuning
    batch_size: int | None = None
    learning_rate: float | None = None
    procedural: int | None = None  # train on N procedural eyes instead of data_dir
    recipe: str = "mask"
    colour_hint: bool = False  # add the colour hint input (a model fine-tuned from one keeps it)
    prediction: str | None = None  # "x0" or "v"; None: the model fine-tuned from's
    colour_weight: float | None = None  # extra loss weight per unit of chroma; None: the model's
    seed: int = 0
    checkpoint_every: int = 250


def has_lines(png: bytes, name: str) -> bool:
    """Whether a drawing has any line or colour edge once fitted to the model's size."""
    drawing = fit_on_white(decode_image(png, name=name, formats=("PNG",)), CHECK_SIZE)
    return bool(extract_strokes(drawing).any())


def train_task(task: Any, between_steps: BetweenSteps) -> None:
    """Run a server training (engine.server.trainings.TrainingTask) through the CLI's path."""
    from engine.commands.train import train_model

    options = TrainOptions(
        data_dir=task.data_dir,
        out=task.out_dir,
        from_dir=task.from_dir,
        stage="both" if "upscaler" in task.stages else "diffusion",
        steps=task.steps,
        upscaler_steps=task.steps,
    )
    train_model(options, between_steps)


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
    drawing = fit_on_white(read_image(drawing_files(drawings_dir)[0]), engine.size)
    sketch = sketch_from_drawing(drawing)
    layer = np.concatenate([sketch, np.full(sketch.shape[:2] + (1,), 255, np.uint8)], axis=-1)
    request = GenerateRequest(
        sketch=layer, count=PREVIEW_COUNT, steps=PREVIEW_STEPS, seed=0, upscale=False
    )
    return [encode_png(variant.image) for variant in engine.generate(request).variants]
