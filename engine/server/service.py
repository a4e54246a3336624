"""What the API serves, without HTTP: the job queue, model switching, health and the model list."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from engine import __version__
from engine.errors import EngineError
from engine.server.jobs import (
    DEFAULT_HISTORY,
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_QUEUED_BYTES,
    GenerateEngine,
    Job,
    JobQueue,
)
from engine.server.payload import JobRequest, sketch_png_from_base64
from engine.server.schemas import SERVICE

LoadEngine = Callable[[str], GenerateEngine]
ListModels = Callable[[], Iterable[Any]]  # items with .name and .path (engine.weights.ModelEntry)


class EngineService:
    """The engine behind the API: jobs run FIFO on one engine that can be swapped by name."""

    def __init__(
        self,
        engine: GenerateEngine,
        *,
        model_name: str = "default",
        load_engine: LoadEngine | None = None,
        list_models: ListModels | None = None,
        history: int = DEFAULT_HISTORY,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES,
    ) -> None:
        self.model_name = model_name
        self.load_engine = load_engine
        self.list_models = list_models
        self.jobs = JobQueue(
            engine, history=history, max_queued=max_queued, max_queued_bytes=max_queued_bytes
        )
        self._select_lock = threading.Lock()  # one model switch at a time

    def health(self) -> dict[str, Any]:
        """Who answers (service and version), the model, device and queue length."""
        info = dict(self.jobs.engine.info)
        device = info.pop("device", "unknown")
        running = self.jobs.running()
        return {
            "service": SERVICE,
            "status": "ok",
            "version": __version__,
            "model": {**info, "selected": self.model_name},
            "device": device,
            "queue_length": self.jobs.queued_count(),
            "running": running.id if running is not None else None,
        }

    def submit(self, body: JobRequest) -> Job:
        """Queue a job: parameters and PNG checked now, its pixels decoded when it runs."""
        request = body.parameters()
        sketch = sketch_png_from_base64(body.sketch_png)
        return self.jobs.submit(request, png=sketch.data, live=body.live)

    def select_model(self, name: str) -> dict[str, Any]:
        """Load the named model once the running job ends; EngineError if unknown or broken."""
        if self.load_engine is None:
            raise EngineError("this server cannot switch models")
        load = self.load_engine
        with self._select_lock:
            if name != self.model_name:
                self.jobs.switch_engine(lambda: load(name))
                self.model_name = name
        return self.health()

    def models(self) -> dict[str, Any]:
        """The models that can be selected and the one loaded."""
        entries = list(self.list_models()) if self.list_models is not None else []
        models = [{"name": entry.name, "path": str(entry.path)} for entry in entries]
        return {"current": self.model_name, "models": models}
