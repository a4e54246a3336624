"""Trainings on the cluster: each one runs its stages in a Ray actor on a node with a core free.

The gateway keeps the training's state, events, cancel and history (the single-process server's
own queue and Teacher, so the API answers the same); only the stages run on a node, where the
studio's data folder is at the same path: the actor reads the training's drawings there and
writes its checkpoints there, and the gateway then moves the finished model into the models
folder every replica loads from. The actor holds its core for the training only, beside the
replicas' own: a training there never pauses for jobs, which run elsewhere.

The actor trains on a thread of its own and queues each step's progress (and a preview when one
is due); the gateway collects them by polling and relays them to the training's events. A cancel
sets the actor's stop flag: the stage stops at its next step and writes its checkpoint, as in a
single process. A node or actor that dies mid-training fails it with one line (resumable from
its last checkpoint, every 50 steps), as does an actor unreachable for UNAVAILABLE_S.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import ray
from ray.actor import ActorHandle
from ray.exceptions import ActorUnavailableError, RayActorError

from engine.errors import Cancelled, EngineError
from engine.progress import TrainingProgress
from engine.server.trainings import Lesson, Previews, train_with_previews
from engine.training import TrainOptions

log = logging.getLogger("engine.studio")

TRAINING_CPUS = 1  # the cores a training holds on its node while it runs
POLL_S = 1.0  # how long one poll for a training's steps waits on the actor at most
# How long the actor may stay unreachable (Ray's ActorUnavailableError: a network blip, or its
# node going) before the training fails; a node Ray knows is dead fails it at once.
UNAVAILABLE_S = 60.0
# What the actor tells the gateway: ("step", progress, preview PNGs or None) after each step,
# then one of ("done",), ("cancelled",) or ("error", one line).
Update = tuple[Any, ...]


# Threaded (max_concurrency): the gateway's polls and its stop call run while the stages train.
# Never restarted: a new process would not know the run it replaced.
@ray.remote(num_cpus=TRAINING_CPUS, max_concurrency=4, max_restarts=0)
class NodeTraining:
    """One training's stages, run on the node Ray placed this actor on."""

    def __init__(self) -> None:
        # This process is the actor's alone: its log (the cluster's worker-*.err) gets the
        # stages' report lines and where the training runs.
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        # The updates the gateway may not have yet: a poll whose answer was lost (an actor
        # unavailable for a moment) must not lose a step, nor the run's end.
        self._updates: list[Update] = []
        self._first = 0  # the number of self._updates[0] among all the run's updates
        self._posted = threading.Condition()
        self._stop = threading.Event()

    def start(self, options: TrainOptions, previews: Previews) -> tuple[str, int]:
        """Start training on a thread; the node's id and this process's id."""
        node = ray.get_runtime_context().get_node_id()
        log.info("training into %s on node %s, process %d", options.out, node, os.getpid())
        threading.Thread(target=self._train, args=(options, previews), daemon=True).start()
        return node, os.getpid()

    def stop(self) -> None:
        """Stop at the next step (the stage keeps a checkpoint)."""
        self._stop.set()

    def updates(self, since: int, wait_s: float) -> list[Update]:
        """The run's updates from number `since` on (the gateway has those before: they are
        dropped here); waits up to wait_s for one."""
        with self._posted:
            del self._updates[: max(0, since - self._first)]
            self._first = max(self._first, since)
            self._posted.wait_for(lambda: bool(self._updates), timeout=wait_s)
            return list(self._updates)

    def _post(self, update: Update) -> None:
        with self._posted:
            self._updates.append(update)
            self._posted.notify_all()

    def _train(self, options: TrainOptions, previews: Previews) -> None:
        def after_step(progress: TrainingProgress, pngs: list[bytes] | None) -> None:
            self._post(("step", progress, pngs))
            if self._stop.is_set():
                raise Cancelled()

        try:
            train_with_previews(options, previews, after_step)
        except Cancelled:
            self._post(("cancelled",))
        except EngineError as error:
            self._post(("error", str(error)))
        except Exception as error:  # a bug fails this training only, with its trace logged here
            log.exception("training into %s failed", options.out)
            self._post(("error", f"internal error: {type(error).__name__}: {error}"))
        else:
            self._post(("done",))


def train_on_cluster(lesson: Lesson) -> None:
    """engine.server.trainings.TrainRunner: the lesson's stages on a node of the cluster the
    gateway joined (it waits for a node with a core free); Cancelled or EngineError as there."""
    actor = NodeTraining.remote()
    try:
        _relay(actor, lesson)
    except RayActorError as error:
        raise EngineError(
            f"the studio lost the node running this training ({type(error).__name__}): resume "
            "it if it is resumable (from its last checkpoint), else train again"
        ) from None
    finally:
        ray.kill(actor)  # its core goes back to the cluster at once


def _relay(actor: ActorHandle, lesson: Lesson) -> None:
    """Start the actor's training and pass its steps to the lesson until it ends."""
    started = actor.start.remote(lesson.options, lesson.previews)
    pending = started  # the start call, then each poll for steps
    received = 0  # updates relayed so far
    unavailable_since: float | None = None
    while True:
        ready, _ = ray.wait([pending], timeout=POLL_S)
        if lesson.should_stop():
            if pending is started and not ready:  # no node took it yet: nothing to checkpoint
                raise Cancelled()
            actor.stop.remote()  # again at every poll: one call lost on the way costs nothing
        if not ready:
            continue
        try:
            answer = ray.get(pending)
        except ActorUnavailableError:
            if pending is started:  # it may or may not have started: nothing to go on with
                raise
            unavailable_since = unavailable_since or time.monotonic()
            if time.monotonic() - unavailable_since > UNAVAILABLE_S:
                raise
            time.sleep(POLL_S)
            pending = actor.updates.remote(received, POLL_S)  # the same updates, asked again
            continue
        unavailable_since = None
        if pending is started:
            node, pid = answer
            log.info("training %s runs on node %s, process %d", lesson.name, node, pid)
        else:
            received += len(answer)
            for update in answer:
                if update[0] == "step":
                    lesson.report(update[1], update[2])
                elif update[0] == "done":
                    return
                elif update[0] == "cancelled":
                    raise Cancelled()
                else:
                    raise EngineError(update[1])
        pending = actor.updates.remote(received, POLL_S)
