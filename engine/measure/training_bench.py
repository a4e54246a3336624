"""Benchmark of generation while a training runs: a job's latency idle and during a training."""

from __future__ import annotations

import secrets
import statistics
import tempfile
from pathlib import Path
from typing import Any

from engine.config import ModelConfig
from engine.measure.server_bench import served_seconds
from engine.models_store import ModelStore
from engine.request import GenerateRequest
from engine.server.app import EngineServer
from engine.server.client import Client
from engine.server.jobs import GenerateEngine
from engine.weights import read_model_document


def bench_generation_during_training(
    engine: GenerateEngine,
    model_dir: Path,
    request: GenerateRequest,
    drawings: list[str],
    repeats: int = 3,
) -> dict[str, Any]:
    """Median job latency with the engine idle and while a training runs (it pauses for jobs)."""
    token = secrets.token_urlsafe(16)
    # A training fine-tunes with the batch size of the model it starts from.
    batch_size = ModelConfig.from_dict(read_model_document(model_dir)["config"]).train.batch_size
    with tempfile.TemporaryDirectory() as folder:
        store = ModelStore(Path(folder), default_dir=model_dir)
        with EngineServer(engine, token=token, store=store) as server:
            server.start()
            client = Client(server.url, token, timeout=600)
            served_seconds(client, request)  # warm: the first call traces graphs
            idle = [served_seconds(client, request) for _ in range(repeats)]
            body = {"name": "bench", "drawings": drawings, "steps": 20000}
            training_id = client.request("POST", "/v1/trainings", body).json()["id"]
            events = client.events(training_id, kind="trainings")
            step_seconds = None
            for name, data in events:
                if name == "progress" and data["images_per_s"]:
                    step_seconds = batch_size / data["images_per_s"]
                    break
            during = [served_seconds(client, request) for _ in range(repeats)]
            client.request("DELETE", f"/v1/trainings/{training_id}")
            for _ in events:  # to its final state
                pass
    return {
        "repeats": repeats,
        "idle_seconds": statistics.median(idle),
        "during_training_seconds": statistics.median(during),
        "training_step_seconds": step_seconds,
    }
