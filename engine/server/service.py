"""What the API serves, without HTTP: the job queue, model switching, health and the model list."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable
from typing import Any

from engine import __version__
from engine.errors import EngineError
from engine.models_store import ModelStore
from engine.server.config import ServerConfig
from engine.server.jobs import GenerateEngine, Generation, Job, JobQueue, supersede
from engine.server.payload import JobRequest, sketch_png_from_base64
from engine.server.schemas import SERVICE
from engine.server.trainings import (
    Teacher,
    TrainingQueue,
    TrainRunner,
    restore_trainings,
    train_here,
)
from engine.server.work import WorkQueue
from engine.weights import DEFAULT_MODEL_NAME

LoadEngine = Callable[[str], GenerateEngine]
ListModels = Callable[[], Iterable[Any]]  # items with .name and .path (engine.weights.ModelEntry)


class EngineService:
    """The engine behind the API: jobs run FIFO on an engine that can be swapped by name, and
    trainings (with a model store) pause while jobs run or wait."""

    def __init__(
        self,
        engine: GenerateEngine,
        *,
        model_name: str = "default",
        load_engine: LoadEngine | None = None,
        list_models: ListModels | None = None,
        store: ModelStore | None = None,
        train: TrainRunner = train_here,
        config: ServerConfig,
    ) -> None:
        """store: the model folders (trained models listed with provenance, deletable); train:
        what runs a training's stages (a studio's gateway runs them on its cluster)."""
        self.model_name = model_name
        self.store = store
        self.load_engine = load_engine
        self.list_models = list_models or (store.entries if store is not None else None)
        self.generation = Generation(engine, engine_named=self._engine_named)
        self.config = config
        self.jobs: JobQueue = WorkQueue(self.generation, config.jobs, name="engine-jobs")
        self._select_lock = threading.Lock()  # one model switch at a time
        # Engines of models jobs name; their own lock, since the job worker loads them while it
        # holds the engine (a model switch holds _select_lock and waits for the engine).
        self._named: collections.OrderedDict[str, GenerateEngine] = collections.OrderedDict()
        self._named_lock = threading.Lock()
        # Trainings run beside the jobs; in this process they pause while a job runs or waits.
        self.teacher: Teacher | None = None
        self.trainings: TrainingQueue | None = None
        if store is not None:
            self.teacher = Teacher(
                store, self.jobs.busy, train, preview_seconds=config.preview_seconds
            )
            self.trainings = WorkQueue(self.teacher, config.trainings, name="engine-training")
            restore_trainings(self.trainings, store)  # what the last run left, before any new
            self.jobs.add_listener(self.teacher.wake)
            self.trainings.add_listener(self.teacher.wake)

    def health(self) -> dict[str, Any]:
        """Who answers (service and version), the model, device and queue length."""
        info = dict(self.generation.engine.info)
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
        if body.model is not None and body.model not in self._model_names():
            known = ", ".join(self._model_names())
            raise EngineError(f"unknown model {body.model[:60]!r}: the models are {known}")
        sketch = sketch_png_from_base64(body.sketch_png)
        job = Job(request, png=sketch.data, live=body.live, model=body.model)
        admit = supersede(self.jobs, body.live) if body.live is not None else None
        return self.jobs.submit(job, admit)

    def select_model(self, name: str) -> dict[str, Any]:
        """Load the named model once the running job ends; EngineError if unknown or broken."""
        if self.load_engine is None:
            raise EngineError("this server cannot switch models")
        load = self.load_engine
        with self._select_lock:
            if name != self.model_name:
                self.generation.switch_engine(lambda: load(name))
                self.model_name = name
        return self.health()

    def models(self) -> dict[str, Any]:
        """The models that can be selected and the one loaded."""
        if self.store is not None:
            return {"current": self.model_name, "models": self.store.describe()}
        entries = list(self.list_models()) if self.list_models is not None else []
        models = [
            {"name": e.name, "path": str(e.path), "shipped": e.name == DEFAULT_MODEL_NAME}
            for e in entries
        ]
        return {"current": self.model_name, "models": models}

    def delete_model(self, name: str) -> dict[str, Any]:
        """Delete a trained model; EngineError for the shipped, the selected or an unknown one."""
        if self.store is None:
            raise EngineError("this server cannot delete models")
        if name == self.model_name and name != DEFAULT_MODEL_NAME:  # the shipped: store says no
            raise EngineError(f"{name!r} is the selected model: select another one first")
        with self._named_lock:
            self._named.pop(name, None)
            self.store.delete(name)
        return self.models()

    def _model_names(self) -> list[str]:
        return [entry.name for entry in self.list_models()] if self.list_models else []

    def _engine_named(self, name: str) -> GenerateEngine:
        """The engine of a model a job names: the selected one, or loaded and kept (LRU)."""
        if name == self.model_name:
            return self.generation.engine
        if self.load_engine is None:
            raise EngineError("this server cannot load other models")
        with self._named_lock:
            engine = self._named.pop(name, None) or self.load_engine(name)
            self._named[name] = engine
            while len(self._named) > self.config.named_engines:
                self._named.popitem(last=False)
        return engine
