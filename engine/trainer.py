"""What training either stage shares: network and EMA copy, optimiser, steps, checkpoints."""

from __future__ import annotations

import collections
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from engine import __version__
from engine.errors import Cancelled, EngineError
from engine.progress import BetweenSteps, TrainingProgress
from engine.weights import save_model

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"  # names the checkpoint's array files: written last, by one rename
_FIXED_FILES = {
    "network": "network.weights.h5",
    "ema": "ema.weights.h5",
    "optimizer": "optimizer.npz",
}

# (inputs of the network, targets) of one step
Batch = tuple[tuple[np.ndarray, ...], np.ndarray | tuple[np.ndarray, ...]]


class EmaTrainer:
    """Holds a network, its EMA copy and the optimiser; runs steps and writes checkpoints.

    A stage subclasses it with `make_batch` (the data recipe), `predict` (the one call its
    generation uses too) and `loss`. Resuming is exact: a step's batch depends only on
    (seed, step).
    """

    document_format: str  # the model folder's format, see engine.weights

    def __init__(self, config: Any, network: keras.Model, ema_network: keras.Model, out_dir: Path):
        self.config = config
        self.out_dir = Path(out_dir)
        self.network = network
        self.ema_network = ema_network
        self.ema_network.set_weights(self.network.get_weights())
        recipe = config.train
        warmup = min(200, recipe.steps // 10)
        schedule = keras.optimizers.schedules.CosineDecay(
            recipe.learning_rate / 10,
            decay_steps=max(1, recipe.steps - warmup),
            alpha=0.1,
            warmup_target=recipe.learning_rate,
            warmup_steps=warmup,
        )
        self.optimizer = keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay)
        self.optimizer.build(self.network.trainable_variables)
        self.step = 0
        self.elapsed = 0.0
        self.started_from: dict | None = None  # provenance of the model fine-tuned from

    def make_batch(self, rng: np.random.Generator) -> Batch:
        """The inputs and targets of one step."""
        raise NotImplementedError

    def predict(self, network: keras.Model, inputs: tuple, training: bool):
        """The network's output for a batch's inputs."""
        raise NotImplementedError

    def loss(self, predictions, targets):
        """The scalar loss of a step."""
        raise NotImplementedError

    def start_from(self, model_dir: Path) -> None:
        """Start from a trained model folder's weights of this stage (fine-tuning)."""
        raise NotImplementedError

    def _start_from_network(self, network: keras.Model, folder: Path) -> None:
        from engine.weights import read_model_document

        self.network.set_weights(network.get_weights())
        self.ema_network.set_weights(network.get_weights())
        document = read_model_document(folder, type(self.config).from_dict)
        self.started_from = {"path": str(folder), **document.get("provenance", {})}

    @tf.function
    def _train_step(self, inputs, targets, ema_decay):
        with tf.GradientTape() as tape:
            loss = self.loss(self.predict(self.network, inputs, training=True), targets)
        gradients = tape.gradient(loss, self.network.trainable_variables)
        self.optimizer.apply_gradients(
            zip(gradients, self.network.trainable_variables, strict=True)
        )
        for weight, ema_weight in zip(self.network.weights, self.ema_network.weights, strict=True):
            ema_weight.assign(ema_decay * ema_weight + (1 - ema_decay) * weight)
        return loss

    def run_step(self) -> float:
        """One optimiser step on the batch of (seed, step)."""
        rng = np.random.default_rng([self.config.train.seed, self.step])
        inputs, targets = self.make_batch(rng)
        # EMA warm-up: early on the average would mostly remember the random initialisation.
        ema_decay = min(self.config.train.ema, (1 + self.step) / (10 + self.step))
        loss = self._train_step(inputs, targets, tf.constant(ema_decay, tf.float32))
        self.step += 1
        return float(loss)

    def save_checkpoint(self, loss: float) -> None:
        """Write a resumable checkpoint and the usable model (EMA weights) into out_dir.

        Atomic: the arrays go into new files, then one rename of state.json, which names them,
        makes them the checkpoint; a crash at any point leaves the last one whole.
        """
        checkpoint = self.out_dir / CHECKPOINT_DIR
        checkpoint.mkdir(parents=True, exist_ok=True)
        # A fresh name every time: the same step may be saved twice (at the end, then on cancel).
        tag = f"{self.step:07d}-{uuid.uuid4().hex[:8]}"
        files = {
            "network": f"network-{tag}.weights.h5",
            "ema": f"ema-{tag}.weights.h5",
            "optimizer": f"optimizer-{tag}.npz",
        }
        self.network.save_weights(checkpoint / files["network"])
        self.ema_network.save_weights(checkpoint / files["ema"])
        np.savez(
            checkpoint / files["optimizer"],
            *[variable.numpy() for variable in self.optimizer.variables],
        )
        state = {
            "step": self.step,
            "elapsed_s": self.elapsed,
            "loss": loss,
            "config": self.config.to_dict(),
            "started_from": self.started_from,
            "files": files,
        }
        for name in files.values():
            _flush_to_disk(checkpoint / name)
        staged = checkpoint / f"state-{tag}.json"
        staged.write_text(json.dumps(state, indent=2) + "\n")
        _flush_to_disk(staged)
        os.replace(staged, checkpoint / STATE_FILE)  # the one step that moves the checkpoint on
        for leftover in checkpoint.iterdir():  # older checkpoints, and a crashed write's files
            if leftover.name != STATE_FILE and leftover.name not in files.values():
                leftover.unlink(missing_ok=True)
        save_model(
            self.ema_network, self.config, self.out_dir, self.provenance(loss), self.document_format
        )

    def resume(self) -> bool:
        """Continue from out_dir's checkpoint if there is one made with the same config."""
        checkpoint = self.out_dir / CHECKPOINT_DIR
        state_path = checkpoint / STATE_FILE
        if not state_path.is_file():
            return False
        state = json.loads(state_path.read_text())
        if type(self.config).from_dict(state["config"]) != self.config:
            raise EngineError(
                f"checkpoint in {checkpoint} was made with another config: use another --out"
            )
        files = state.get("files", _FIXED_FILES)  # checkpoints before atomic ones had fixed names
        self.network.load_weights(checkpoint / files["network"])
        self.ema_network.load_weights(checkpoint / files["ema"])
        with np.load(checkpoint / files["optimizer"]) as arrays:
            for index, variable in enumerate(self.optimizer.variables):
                variable.assign(arrays[f"arr_{index}"])
        self.step = state["step"]
        self.elapsed = state["elapsed_s"]
        self.started_from = state.get("started_from")
        return True

    def resume_or_start(
        self, from_dir: Path | None, report: Callable[[str], None] = lambda _: None
    ) -> None:
        """Resume out_dir's checkpoint if there is one, else start from from_dir's weights."""
        if self.resume():
            report(f"resumed at step {self.step}\n")
        elif from_dir is not None:
            self.start_from(from_dir)

    def provenance(self, loss: float) -> dict:
        """Where these weights came from, stored in their config.json."""
        return {
            "trained_steps": self.step,
            "final_loss": round(loss, 6),
            "wall_time_s": round(self.elapsed, 1),
            "images_seen": self.step * self.config.train.batch_size,
            "machine": f"{platform.machine()}, {_cpu_name()}, {_cpu_count()} cores",
            "engine_version": __version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "parameters": int(self.network.count_params()),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "fine_tuned_from": self.started_from,
        }


def run_training(
    trainer: EmaTrainer,
    checkpoint_every: int = 250,
    report: Callable[[str], None] | None = None,
    label: str = "step",
    between_steps: BetweenSteps | None = None,
    stage: str = "diffusion",
) -> EmaTrainer:
    """Run the trainer to its config's steps, with progress lines and regular checkpoints.

    between_steps(progress, trainer) runs after every step (engine.progress); if it raises
    Cancelled, a checkpoint is written first, so the run resumes from this step.
    """
    report = report or progress_line
    total = trainer.config.train.steps
    batch_size = trainer.config.train.batch_size
    smoothed = None
    loss = float("nan")
    # Throughput over the last steps' own time: a pause between steps is not training time.
    recent: collections.deque[float] = collections.deque(maxlen=10)
    while trainer.step < total:
        started = time.perf_counter()
        loss = trainer.run_step()
        seconds = time.perf_counter() - started
        trainer.elapsed += seconds
        recent.append(seconds)
        smoothed = loss if smoothed is None else 0.98 * smoothed + 0.02 * loss
        rate = len(recent) * batch_size / sum(recent)
        remaining = (total - trainer.step) * batch_size / rate
        if trainer.step % 10 == 0 or trainer.step == total:
            report(
                f"\r{label} {trainer.step}/{total}  loss {smoothed:.4f}  {rate:.1f} img/s"
                f"  eta {remaining / 60:.1f} min"
            )
        if trainer.step % checkpoint_every == 0 or trainer.step == total:
            trainer.save_checkpoint(smoothed)
        if between_steps is not None:
            progress = TrainingProgress(stage, trainer.step, total, smoothed, rate, remaining)
            try:
                between_steps(progress, trainer)
            except Cancelled:
                trainer.save_checkpoint(smoothed)
                report("\n")
                raise
    report("\n")
    return trainer


def progress_line(text: str) -> None:
    """Write a progress update to stderr: redrawn in a terminal, one line each in a log."""
    if not sys.stderr.isatty():
        text = text.replace("\r", "") + ("\n" if not text.endswith("\n") else "")
    sys.stderr.write(text)
    sys.stderr.flush()


def _flush_to_disk(path: Path) -> None:
    """Make a written file durable before a rename makes it part of the checkpoint."""
    with open(path, "ab") as file:  # appends nothing; Windows fsyncs only writable handles
        os.fsync(file.fileno())


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
