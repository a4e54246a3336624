"""Checkpoints are atomic: a crash at any point of a write (simulated in the writer, and a real
kill -9 of `python -m engine train`) leaves the last good checkpoint, which resumes to the weights
of an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import engine.trainer
from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.train import Trainer, prepare_training_set
from engine.trainer import CHECKPOINT_DIR, STATE_FILE
from engine.training import TrainOptions, train_model
from engine.weights import load_model

REPO = Path(__file__).resolve().parents[2]


class Crash(Exception):
    """Stands for the process dying at this point of the write."""


def _data(config):
    drawings, sketches = make_eyes(6, TRAIN_SEED, config.network.image_size)
    return prepare_training_set(drawings, sketches)


def _steps(trainer: Trainer, count: int) -> Trainer:
    for _ in range(count):
        trainer.run_step()
    return trainer


def _crash_at(monkeypatch, target: object, name: str) -> None:
    def crash(*args, **kwargs):
        raise Crash(name)

    monkeypatch.setattr(target, name, crash)


@pytest.mark.parametrize(
    "where",
    [
        "optimizer",  # both weight files written, the optimizer's not
        "rename",  # every new file written, state.json not yet replaced
    ],
)
def test_a_crash_during_a_checkpoint_write_leaves_the_last_one_to_resume_exactly(
    tmp_path, tiny_config, monkeypatch, where
):
    data = _data(tiny_config)
    straight = _steps(Trainer(tiny_config, data, tmp_path / "straight"), 4)

    crashed = _steps(Trainer(tiny_config, data, tmp_path / "run"), 2)
    crashed.save_checkpoint(loss=0.0)
    _steps(crashed, 1)
    with monkeypatch.context() as patch:
        if where == "optimizer":
            _crash_at(patch, engine.trainer.np, "savez")
        else:
            _crash_at(patch, engine.trainer.os, "replace")
        with pytest.raises(Crash):
            crashed.save_checkpoint(loss=0.0)

    resumed = Trainer(tiny_config, data, tmp_path / "run")
    assert resumed.resume() and resumed.step == 2
    _steps(resumed, 2)
    for a, b in zip(straight.network.get_weights(), resumed.network.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The next checkpoint takes the place of the last one and of the crashed write's files.
    resumed.save_checkpoint(loss=0.0)
    assert len(list((tmp_path / "run" / CHECKPOINT_DIR).iterdir())) == 4


def test_a_checkpoint_of_the_fixed_names_before_atomic_ones_still_resumes(tmp_path, tiny_config):
    data = _data(tiny_config)
    old = _steps(Trainer(tiny_config, data, tmp_path), 2)
    old.save_checkpoint(loss=0.0)
    checkpoint = tmp_path / CHECKPOINT_DIR
    state = (checkpoint / STATE_FILE).read_text()
    for kind, name in engine.trainer._FIXED_FILES.items():
        fresh = next(checkpoint.glob(f"{kind}-*"))
        fresh.rename(checkpoint / name)
    document = json.loads(state)
    del document["files"]
    (checkpoint / STATE_FILE).write_text(json.dumps(document))
    resumed = Trainer(tiny_config, data, tmp_path)
    assert resumed.resume() and resumed.step == 2


def _train_command(tiny_model_dir: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "engine",
        "train",
        "--procedural",
        "8",
        "--from",
        str(tiny_model_dir),
        "--stage",
        "diffusion",
        "--steps",
        "24",
        "--batch-size",
        "4",
        "--checkpoint-every",
        "1",
        "--out",
        str(out),
    ]


def test_kill_9_at_any_moment_of_a_training_then_a_rerun_gives_the_uninterrupted_weights(
    tmp_path, tiny_model_dir
):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    straight = tmp_path / "straight"
    options = TrainOptions(
        None, straight, tiny_model_dir, "diffusion", steps=24, batch_size=4, procedural=8
    )
    train_model(options)  # what the command does, uninterrupted, in this process
    interrupted = tmp_path / "interrupted"
    state = interrupted / CHECKPOINT_DIR / STATE_FILE
    chance = random.Random(24)
    for _ in range(2):
        before = state.read_text() if state.exists() else ""
        process = subprocess.Popen(
            _train_command(tiny_model_dir, interrupted),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Once it checkpoints anew, kill it at a random moment: most of a tiny step is writing.
        deadline = time.monotonic() + 120
        while (not state.exists() or state.read_text() == before) and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.01)
        time.sleep(chance.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    subprocess.run(
        _train_command(tiny_model_dir, interrupted),
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    expected, _ = load_model(straight)
    resumed, _ = load_model(interrupted)
    for a, b in zip(expected.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
