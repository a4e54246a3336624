"""SIGTERM while a training runs ends `python -m engine serve` promptly, whatever the training is
doing (loading its drawings, or in a step), and leaves its checkpoint whole."""

from __future__ import annotations

import base64
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.images import encode_png
from engine.server.client import Client
from engine.server.ready import parse_ready_line
from tests.server.processes import first_line, spawn, stderr_tail, stop

START_TIMEOUT = 240.0  # seconds for TensorFlow and the model to load on a busy machine
# Far below the 30 s a running training was given to stop before; the figure itself is the
# benchmark's (python -m engine bench-uploads prints it), this only tells a hang from an exit.
EXIT_TIMEOUT = 15.0


def _drawings() -> list[str]:
    drawings, _ = make_eyes(8, TRAIN_SEED, 48)
    alpha = np.full((48, 48, 1), 255, np.uint8)
    return [base64.b64encode(encode_png(np.concatenate([d, alpha], -1))).decode() for d in drawings]


def _wait_for(client: Client, training_id: str, wanted, timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.request("GET", f"/v1/trainings/{training_id}").json()
        if wanted(status):
            return status
        time.sleep(0.2)
    pytest.fail(f"the training never got there: {status}")


@pytest.mark.parametrize("moment", ["loading its drawings", "in its steps"])
def test_sigterm_during_a_training_ends_the_server_with_its_checkpoint_whole(tmp_path, moment):
    token_file = tmp_path / "token"
    # The shipped model trains here: its two stages load and step as an artist's training does.
    process = spawn(
        [sys.executable, "-m", "engine", "serve", "--token-file", str(token_file)], tmp_path
    )
    try:
        url = parse_ready_line(first_line(process, tmp_path, START_TIMEOUT))
        client = Client(url, token_file.read_text().strip(), timeout=60)
        body = {"name": "long", "drawings": _drawings(), "steps": 20000}
        training_id = client.request("POST", "/v1/trainings", body).json()["id"]
        if moment == "loading its drawings":
            _wait_for(client, training_id, lambda status: status["state"] == "running")
        else:
            _wait_for(client, training_id, lambda status: status["step"] >= 2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(EXIT_TIMEOUT) == 0, stderr_tail(tmp_path)
    finally:
        stop(process)
    folder = tmp_path / "data" / "sketch-variants" / "trainings" / training_id / "model"
    state = folder / "checkpoint" / "state.json"
    if moment == "in its steps" and state.exists():  # written when the step ended in time
        named = json.loads(state.read_text())["files"].values()
        assert all((state.parent / name).is_file() for name in named)
        assert sorted(p.name for p in state.parent.iterdir()) == sorted([*named, "state.json"])
    assert Path(folder.parent / "drawings").is_dir()  # the artist's drawings stay
