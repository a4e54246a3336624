"""The model replica: a Ray Serve deployment answering generate requests in batches.

Concurrent requests reaching one replica within BATCH_WAIT_S are answered together
(`@serve.batch`): those naming the same model go through Engine.generate_batch, one network call
a step for all of them. Each artist's taught model is loaded on demand from the shared models
folder and the least recently used one is dropped past MODELS_PER_REPLICA
(`@serve.multiplexed`; the gateway names the model in the handle's options, so Serve prefers a
replica that has it loaded).

A request's answer is a stream of lists of updates, tuples: ("progress", step, total) as the
steps run, then one ("result", GenerateResult) or ("error", one-line message).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ray import serve

from engine.errors import Cancelled, EngineError
from engine.models_store import ModelStore
from engine.request import GenerateRequest, GenerateResult

DEPLOYMENT = "variants"
MODELS_PER_REPLICA = 3  # the studio's default model and two artists' own, per replica
MAX_BATCH = 8  # requests answered together at most (each with its own variant count)
# How long a replica waits for more requests once one arrives: a few ms of latency buys whole
# extra requests in the same forward pass when artists press Generate at once.
BATCH_WAIT_S = 0.02
Update = tuple[Any, ...]
log = logging.getLogger("ray.serve")  # Serve keeps a replica's log in the cluster's session logs


@serve.deployment(name=DEPLOYMENT, max_ongoing_requests=4 * MAX_BATCH)
class VariantReplica:
    """One model replica: engines loaded on demand, requests answered in batches."""

    def __init__(self, data_root: str, default_dir: str, max_batch: int = MAX_BATCH) -> None:
        """data_root: the models folder's parent (a ModelStore root) every node reads;
        max_batch: 1 answers requests one at a time (the benchmark's unbatched figure)."""
        self._store = ModelStore(Path(data_root), Path(default_dir))
        self._batch.set_max_batch_size(max_batch)

    @serve.multiplexed(max_num_models_per_replica=MODELS_PER_REPLICA)
    async def engine(self, name: str) -> Any:
        """The engine of the model called `name`, loaded from the shared folder."""
        # TensorFlow is imported in the replica only: the gateway needs none of it.
        from engine.pipeline import Engine

        return await asyncio.to_thread(Engine.load, self._store.resolve(name))

    async def info(self, name: str) -> dict[str, Any]:
        """The named model's description, for the gateway's health answer."""
        return (await self.engine(name)).info

    async def generate(self, model: str, request: GenerateRequest) -> AsyncIterator[list[Update]]:
        """One request's updates, answered within whatever batch it joins."""
        # Set once the request is over for its caller: when the gateway cancels it, Serve
        # cancels this generator, and the batch stops the request's rows at their next step.
        gone = threading.Event()
        try:
            # Serve streams only from a method that is itself an async generator.
            async for update in self._batch(model, request, gone):
                yield update
        finally:
            gone.set()

    @serve.batch(max_batch_size=MAX_BATCH, batch_wait_timeout_s=BATCH_WAIT_S)
    async def _batch(
        self, models: list[str], requests: list[GenerateRequest], gone: list[threading.Event]
    ) -> AsyncIterator[list[Any]]:
        """Answer a batch: one update per request each time any of them moves."""
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[tuple[int, Update]] = asyncio.Queue()

        def post(index: int, update: Update) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, (index, update))

        engines: dict[str, Any] = {}
        for index, name in enumerate(models):
            if name not in engines:
                try:
                    engines[name] = await self.engine(name)
                except EngineError as error:  # a model deleted or broken since the job came
                    engines[name] = error
            if isinstance(engines[name], EngineError):
                post(index, ("error", str(engines[name])))
        log.info("a batch of %d requests, %d variants", len(requests), _variants(requests))
        work = asyncio.create_task(
            asyncio.to_thread(_run_batch, engines, models, requests, gone, post)
        )
        ended = [False] * len(requests)
        while not all(ended):
            arrived = [await _next_update(updates, work)]
            while not updates.empty():  # everything that came meanwhile goes in one yield
                arrived.append(updates.get_nowait())
            news: list[Any] = [StopIteration if done else [] for done in ended]
            for index, update in arrived:
                news[index].append(update)
                ended[index] = ended[index] or update[0] != "progress"
            # Each request gets its new updates, an empty list when it has none; one that
            # ended got its answer before and gets StopIteration, which ends its stream.
            yield news


async def _next_update(updates: asyncio.Queue, work: asyncio.Task) -> tuple[int, Update]:
    """The next update, or the batch's failure as soon as its thread raises."""
    getter = asyncio.ensure_future(updates.get())
    await asyncio.wait({getter, work}, return_when=asyncio.FIRST_COMPLETED)
    if getter.done():
        return getter.result()
    getter.cancel()
    if not updates.empty():  # the thread's last updates landed as it ended
        return updates.get_nowait()
    work.result()  # raises the bug that ended the batch; Serve fails every request in it
    raise RuntimeError("the replica's batch ended without answering every request")


def _run_batch(
    engines: dict[str, Any],
    models: list[str],
    requests: list[GenerateRequest],
    gone: list[threading.Event],
    post: Any,
) -> None:
    """Run each model's requests through its engine's generate_batch, posting every update."""
    for name, engine in engines.items():
        if isinstance(engine, EngineError):
            continue
        members = [i for i, model in enumerate(models) if model == name]

        def progress(k: int, step: int, total: int, members: list[int] = members) -> None:
            post(members[k], ("progress", step, total))

        def cancelled(k: int, members: list[int] = members) -> bool:
            return gone[members[k]].is_set()

        outcomes = engine.generate_batch([requests[i] for i in members], progress, cancelled)
        for index, outcome in zip(members, outcomes, strict=True):
            if isinstance(outcome, Cancelled):
                log.info("request %d of %d cancelled: its rows stopped", index + 1, len(models))
            post(index, _answer(outcome))


def _variants(requests: list[GenerateRequest]) -> int:
    return sum(request.count for request in requests)


def _answer(outcome: GenerateResult | EngineError | Cancelled) -> Update:
    if isinstance(outcome, GenerateResult):
        return ("result", outcome)
    return ("error", str(outcome) or "cancelled")  # nobody follows a cancelled one's stream
