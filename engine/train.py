"""Training with the paper's recipe: noise masks of random radius, constant-noise background."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from engine import __version__
from engine.config import ModelConfig
from engine.errors import EngineError
from engine.masks import ink_of, squared_distance_to_ink
from engine.model import build_network, denoise
from engine.noise import constant_noise
from engine.schedule import rates
from engine.weights import load_model, read_model_document, save_model

CHECKPOINT_DIR = "checkpoint"
WHITE = 1.0  # the background in the network's [-1, 1] range


@dataclass(frozen=True)
class TrainingSet:
    """Drawings in the network's range and, per drawing, squared distances to its sketch's ink."""

    images: np.ndarray  # (N, S, S, 3) float32 in [-1, 1]
    squared_distances: np.ndarray  # (N, S, S) int32: where a mask of radius r is d2 <= r*r


@dataclass(frozen=True)
class Batch:
    """One training batch: the network's inputs and its target."""

    noisy_images: np.ndarray  # (B, S, S, 3)
    masks: np.ndarray  # (B, S, S, 1): 1 = random noise, 0 = constant background
    noise_rates: np.ndarray  # (B, 1, 1, 1)
    targets: np.ndarray  # (B, S, S, 3): the drawing inside the mask, white outside


def prepare_training_set(drawings: np.ndarray, sketches: np.ndarray) -> TrainingSet:
    """Scale drawings to [-1, 1]; precompute each sketch's distance map (so masks are cheap)."""
    images = drawings.astype(np.float32) / 127.5 - 1.0
    distances = np.stack(
        [squared_distance_to_ink(ink_of(sketch.astype(np.float32) / 255.0)) for sketch in sketches]
    ).astype(np.int32)
    return TrainingSet(images, distances)


def make_batch(
    data: TrainingSet, config: ModelConfig, constant: np.ndarray, rng: np.random.Generator
) -> Batch:
    """A batch the paper's way: random radius, random level, constant noise outside the mask."""
    recipe = config.train
    batch_size = recipe.batch_size
    index = rng.integers(len(data.images), size=batch_size)
    images = data.images[index]
    distances = data.squared_distances[index]
    # Mirrored eyes are still eyes: doubles the data for free.
    flip = rng.random(batch_size) < 0.5
    images[flip] = images[flip, :, ::-1]
    distances[flip] = distances[flip, :, ::-1]

    radii = rng.integers(recipe.radius_min, recipe.radius_max + 1, size=batch_size)
    full = rng.random(batch_size) < (1.0 if recipe.recipe == "full" else recipe.full_mask_fraction)
    masks = (distances <= (radii**2)[:, None, None]) | full[:, None, None]
    masks = masks[..., None].astype(np.float32)  # (B, S, S, 1)

    noise_rates, signal_rates = rates(rng.random(batch_size), config.schedule)
    noise_rates = noise_rates.reshape(-1, 1, 1, 1).astype(np.float32)
    signal_rates = signal_rates.reshape(-1, 1, 1, 1).astype(np.float32)
    noises = rng.standard_normal(images.shape, dtype=np.float32)
    noisy_images = masks * (signal_rates * images + noise_rates * noises) + (1 - masks) * constant
    targets = masks * images + (1 - masks) * WHITE
    return Batch(noisy_images, masks, noise_rates, targets)


class Trainer:
    """Holds the network, its EMA copy and the optimiser; runs steps and writes checkpoints."""

    def __init__(self, config: ModelConfig, data: TrainingSet, out_dir: Path) -> None:
        self.config = config
        self.data = data
        self.out_dir = Path(out_dir)
        self.constant = constant_noise(config.noise, config.network.image_size)
        keras.utils.set_random_seed(config.train.seed)  # the same initial weights for a seed
        self.network = build_network(config.network)
        self.ema_network = build_network(config.network)
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

    def start_from(self, model_dir: Path) -> None:
        """Start from a trained model's weights (fine-tuning)."""
        network, _ = load_model(model_dir)
        self.network.set_weights(network.get_weights())
        self.ema_network.set_weights(network.get_weights())
        document = read_model_document(model_dir)
        self.started_from = {"path": str(model_dir), **document.get("provenance", {})}

    @tf.function
    def _train_step(self, noisy_images, masks, noise_rates, targets, ema_decay):
        with tf.GradientTape() as tape:
            pred_images = denoise(self.network, noisy_images, masks, noise_rates, training=True)
            # L2, not L1: L1's per-pixel median on line art is the white page (blank outputs).
            loss = tf.reduce_mean(tf.square(pred_images - targets))
        gradients = tape.gradient(loss, self.network.trainable_variables)
        self.optimizer.apply_gradients(
            zip(gradients, self.network.trainable_variables, strict=True)
        )
        for weight, ema_weight in zip(self.network.weights, self.ema_network.weights, strict=True):
            ema_weight.assign(ema_decay * ema_weight + (1 - ema_decay) * weight)
        return loss

    def run_step(self) -> float:
        """One optimiser step; the batch depends only on (seed, step), so resuming is exact."""
        rng = np.random.default_rng([self.config.train.seed, self.step])
        batch = make_batch(self.data, self.config, self.constant, rng)
        # EMA warm-up: early on the average would mostly remember the random initialisation.
        ema_decay = min(self.config.train.ema, (1 + self.step) / (10 + self.step))
        loss = self._train_step(
            batch.noisy_images,
            batch.masks,
            batch.noise_rates,
            batch.targets,
            tf.constant(ema_decay, tf.float32),
        )
        self.step += 1
        return float(loss)

    def save_checkpoint(self, loss: float) -> None:
        """Write a resumable checkpoint and the usable model (EMA weights) into out_dir."""
        checkpoint = self.out_dir / CHECKPOINT_DIR
        checkpoint.mkdir(parents=True, exist_ok=True)
        self.network.save_weights(checkpoint / "network.weights.h5")
        self.ema_network.save_weights(checkpoint / "ema.weights.h5")
        np.savez(
            checkpoint / "optimizer.npz",
            *[variable.numpy() for variable in self.optimizer.variables],
        )
        state = {
            "step": self.step,
            "elapsed_s": self.elapsed,
            "loss": loss,
            "config": self.config.to_dict(),
            "started_from": self.started_from,
        }
        (checkpoint / "state.json").write_text(json.dumps(state, indent=2) + "\n")
        save_model(self.ema_network, self.config, self.out_dir, self.provenance(loss))

    def resume(self) -> bool:
        """Continue from out_dir's checkpoint if there is one made with the same config."""
        checkpoint = self.out_dir / CHECKPOINT_DIR
        state_path = checkpoint / "state.json"
        if not state_path.is_file():
            return False
        state = json.loads(state_path.read_text())
        if ModelConfig.from_dict(state["config"]) != self.config:
            raise EngineError(
                f"checkpoint in {checkpoint} was made with another config: use another --out"
            )
        self.network.load_weights(checkpoint / "network.weights.h5")
        self.ema_network.load_weights(checkpoint / "ema.weights.h5")
        with np.load(checkpoint / "optimizer.npz") as arrays:
            for index, variable in enumerate(self.optimizer.variables):
                variable.assign(arrays[f"arr_{index}"])
        self.step = state["step"]
        self.elapsed = state["elapsed_s"]
        self.started_from = state.get("started_from")
        return True

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


def train(
    config: ModelConfig,
    data: TrainingSet,
    out_dir: Path,
    from_dir: Path | None = None,
    checkpoint_every: int = 250,
    report: Callable[[str], None] | None = None,
) -> Trainer:
    """Train to config.train.steps, resuming from out_dir's checkpoint when there is one."""
    report = report or _progress_line
    trainer = Trainer(config, data, out_dir)
    if trainer.resume():
        report(f"resumed at step {trainer.step}\n")
    elif from_dir is not None:
        trainer.start_from(from_dir)
    total = config.train.steps
    smoothed = None
    loss = float("nan")
    window_start, window_steps = time.perf_counter(), 0
    while trainer.step < total:
        started = time.perf_counter()
        loss = trainer.run_step()
        trainer.elapsed += time.perf_counter() - started
        smoothed = loss if smoothed is None else 0.98 * smoothed + 0.02 * loss
        window_steps += 1
        if trainer.step % 10 == 0 or trainer.step == total:
            rate = window_steps * config.train.batch_size / (time.perf_counter() - window_start)
            remaining = (total - trainer.step) * config.train.batch_size / rate
            report(
                f"\rstep {trainer.step}/{total}  loss {smoothed:.4f}  {rate:.1f} img/s"
                f"  eta {remaining / 60:.1f} min"
            )
            window_start, window_steps = time.perf_counter(), 0
        if trainer.step % checkpoint_every == 0 or trainer.step == total:
            trainer.save_checkpoint(smoothed)
    report("\n")
    return trainer


def config_for(base: ModelConfig, **train_overrides) -> ModelConfig:
    """`base` with some training fields replaced."""
    return dataclasses.replace(base, train=dataclasses.replace(base.train, **train_overrides))


def _progress_line(text: str) -> None:
    # A carriage return redraws the bar in a terminal; logs get one line per update instead.
    if not sys.stderr.isatty():
        text = text.replace("\r", "") + ("\n" if not text.endswith("\n") else "")
    sys.stderr.write(text)
    sys.stderr.flush()


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
