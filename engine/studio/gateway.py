"""The gateway's engine: what the unchanged job queue calls, run on the cluster's replicas.

The HTTP app, token, Host check, job and training state, events, cancel and limits stay in the
gateway (the single-process server's own code, so every answer is the same); only generate()
crosses to a replica. A replica that dies mid-job (its process killed, its node gone) costs the
job one retry on another replica; a second loss fails the job with a one-line error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ray.exceptions import RayActorError
from ray.serve.exceptions import RequestCancelledError
from ray.serve.handle import DeploymentHandle

from engine.errors import Cancelled, EngineError
from engine.request import GenerateRequest, GenerateResult

log = logging.getLogger("engine.studio")

CANCEL_POLL_S = 0.1  # how often a running job's cancel flag is looked at while it waits
ATTEMPTS = 2  # a job survives the loss of one replica, not of a second
# A model loads in seconds; the first one on a fresh replica also imports TensorFlow.
DESCRIBE_TIMEOUT_S = 180.0


class ReplicaLost(Exception):
    """The replica running a job went away before answering."""


class ClusterEngine:
    """GenerateEngine over the replicas' deployment handle, for one model name."""

    def __init__(self, handle: DeploymentHandle, model: str, info: dict[str, Any]) -> None:
        """info: the model's description as a replica gave it (the health answer's)."""
        self._handle = handle
        self.model = model
        self._info = info

    @property
    def info(self) -> dict[str, Any]:
        """The model's name, size, parameters and the replicas' device."""
        return self._info

    def generate(
        self,
        request: GenerateRequest,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerateResult:
        """The request's variants from a replica; raises Cancelled or EngineError."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self._attempt(request, on_progress, should_cancel)
            except ReplicaLost as lost:
                log.warning("a job on %s lost its replica (%s), try %d", self.model, lost, attempt)
                reason = lost
        raise EngineError(
            f"the studio lost {ATTEMPTS} model replicas while running this job ({reason}): "
            "generate again; if it keeps failing, ask whoever runs the studio to check its "
            "nodes (`ray status`)"
        )

    def _attempt(
        self,
        request: GenerateRequest,
        on_progress: Callable[[int, int], None] | None,
        should_cancel: Callable[[], bool] | None,
    ) -> GenerateResult:
        options = self._handle.options(stream=True, multiplexed_model_id=self.model)
        stream = options.generate.remote(self.model, request)
        answered = threading.Event()
        if should_cancel is not None:
            # The stream blocks until the replica says something, which a queued job may not do
            # for a while: a watcher cancels the stream as soon as the artist cancels the job.
            threading.Thread(
                target=_cancel_when, args=(should_cancel, answered, stream.cancel), daemon=True
            ).start()
        try:
            for update in (update for updates in stream for update in updates):
                if update[0] == "progress":
                    if on_progress is not None:
                        on_progress(update[1], update[2])
                    if should_cancel is not None and should_cancel():
                        stream.cancel()  # at the next step, as on the single-process engine
                        raise Cancelled()
                elif update[0] == "result":
                    return update[1]
                else:
                    raise EngineError(update[1])
        except RequestCancelledError:
            raise Cancelled() from None
        except RayActorError as error:
            raise ReplicaLost(first_line(error)) from None
        finally:
            answered.set()
        raise ReplicaLost("its answer ended early")


def _cancel_when(should_cancel: Callable[[], bool], answered: threading.Event, cancel) -> None:
    while not answered.wait(CANCEL_POLL_S):
        if should_cancel():
            cancel()
            return


def first_line(error: BaseException) -> str:
    """A Ray error as one short line: its type and its message's first line."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:200]


def describe_model(handle: DeploymentHandle, name: str, replicas: int) -> dict[str, Any]:
    """A model's description from a replica, which loads it; EngineError if it cannot."""
    try:
        options = handle.options(multiplexed_model_id=name)
        info = options.info.remote(name).result(timeout_s=DESCRIBE_TIMEOUT_S)
    except EngineError as error:  # Ray raises the replica's error as a subclass of its own
        raise EngineError(str(getattr(error, "cause", error))) from None
    except TimeoutError:
        raise EngineError(
            f"no model replica loaded {name!r} within {DESCRIBE_TIMEOUT_S:.0f} s: "
            "check the cluster's nodes with `ray status`"
        ) from None
    return {**info, "replicas": replicas}
