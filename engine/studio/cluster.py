"""Joining a Ray cluster and deploying the model replicas on it."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

import ray
from ray import serve
from ray.serve.handle import DeploymentHandle

from engine.errors import EngineError
from engine.models_store import ModelStore
from engine.studio.replica import MAX_BATCH, VariantReplica

APP = "sketch-variants"  # the Serve application's name on the cluster
PROBE_TIMEOUT_S = 5.0  # a head that does not accept a connection in this long is not there


@dataclass(frozen=True)
class ReplicaSettings:
    """How many model replicas run, and what each holds of a node."""

    replicas: int = 2  # model replicas; Serve places them on nodes with the resources free
    cpus: float = 1.0  # CPU cores each replica reserves
    gpus: float = 0.0  # GPUs each replica reserves: 1 on a GPU box (0 runs on its CPU)
    max_batch: int = MAX_BATCH  # requests one forward pass answers at most; 1: no batching


def deploy(address: str, store: ModelStore, settings: ReplicaSettings) -> DeploymentHandle:
    """Join the cluster at `address`, (re)deploy the replicas and wait until they serve.

    store: the models folder every node reads at the same path. EngineError if the cluster
    cannot be reached.
    """
    if not ray.is_initialized():  # a redeploy (other settings) keeps the connection
        _check_reachable(address)
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise EngineError(f"cannot join the Ray cluster at {address}: {error}") from None
    # Serve's progress notes (app ready, connecting) are noise beside the gateway's ready line.
    logging.getLogger("ray.serve").setLevel(logging.WARNING)
    # The gateway is the only way in: Serve's own HTTP proxy would bypass its token check.
    serve.start(proxy_location="Disabled")
    replica = VariantReplica.options(
        num_replicas=settings.replicas,
        ray_actor_options={"num_cpus": settings.cpus, "num_gpus": settings.gpus},
    )
    app = replica.bind(str(store.root), str(store.default_dir), settings.max_batch)
    return serve.run(app, name=APP, route_prefix=None)


def _check_reachable(address: str) -> None:
    """EngineError at once when nothing listens at host:port (ray.init would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"--ray {address!r} is not host:port, e.g. gpu-box:6379")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as error:
        raise EngineError(
            f"no Ray cluster answers at {address} ({error.strerror or error}): start one there "
            "with `ray start --head --port PORT`, then pass the address it prints"
        ) from None


def undeploy() -> None:
    """Remove the replicas from the cluster and leave it (the cluster itself runs on)."""
    if ray.is_initialized():
        serve.delete(APP)
        ray.shutdown()
