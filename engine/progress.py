"""What a training run tells its caller between steps (no TensorFlow: the server imports it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingProgress:
    """Where one stage's training stands after a step."""

    stage: str  # "diffusion" or "upscaler"
    step: int  # steps of this stage done
    total: int  # steps of this stage in all
    loss: float  # smoothed training loss
    images_per_s: float  # training throughput over the last steps (pauses not counted)
    eta_s: float  # seconds until this stage is done at that throughput


# Called after every step with the progress and the stage's trainer (engine.trainer.EmaTrainer).
# It may block (a generation job runs meanwhile) and may raise engine.errors.Cancelled to stop;
# the stage then writes a resumable checkpoint before the exception goes on.
BetweenSteps = Callable[[TrainingProgress, Any], None]
