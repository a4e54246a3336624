"""`python -m engine studio --ray ADDRESS`: the plugin's HTTP API, its jobs run on a Ray cluster.

The gateway is the single-process server (engine.server), so the token, the Host check, bad
input and limits answer exactly as there; its jobs run on model replicas that Ray Serve keeps on
the cluster's nodes, its trainings in an actor on a node with a core free
(engine.studio.training). Ray is imported in run() only, so `python -m engine --help` needs no
Ray.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from engine.errors import EngineError
from engine.models_store import ModelStore
from engine.paths import DEFAULT_MODEL_DIR
from engine.server import command as serve_command
from engine.server.config import ServerConfig

HELP = "serve the plugin's API from a Ray cluster's model replicas (a studio's engine)"
DESCRIPTION = (
    "The same HTTP API as `serve`, with the model work on a Ray cluster: replicas on its nodes, "
    "concurrent jobs sharing a model batched into one forward pass, each artist's model loaded "
    "on demand. Needs the studio extra: pip install -e '.[studio]'."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `serve`'s options and the cluster's."""
    serve_command.add_arguments(parser)
    parser.add_argument(
        "--ray",
        required=True,
        metavar="ADDRESS",
        help="the Ray cluster's head, host:port as `ray start --head` printed it",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="the studio's data folder (models/ inside), at the same path on every node "
        "(a shared mount); default: this user's engine data folder",
    )
    parser.add_argument(
        "--default-model",
        type=Path,
        default=DEFAULT_MODEL_DIR,
        metavar="DIR",
        help="the model called 'default', at the same path on every node "
        "(default: the shipped weights)",
    )
    parser.add_argument("--replicas", type=int, default=2, help="model replicas (default 2)")
    parser.add_argument(
        "--replica-cpus", type=float, default=1.0, help="CPU cores per replica (default 1)"
    )
    parser.add_argument(
        "--replica-gpus", type=float, default=0.0, help="GPUs per replica (default 0; 1 on GPUs)"
    )
    parser.add_argument(
        "--max-batch",
        type=int,
        default=None,
        metavar="N",
        help="jobs one forward pass answers at most (default 8; 1 turns batching off)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="jobs the gateway sends to the replicas at once (default: replicas x max batch)",
    )


def run(args: argparse.Namespace) -> int:
    """Deploy the replicas, serve until SIGTERM/SIGINT, take the replicas off the cluster."""
    if args.print_token:  # no cluster needed to hand out the token
        return serve_command.run(args)
    from engine.studio import cluster

    try:
        return serve_command.run(args, setup=_cluster_setup)
    finally:
        cluster.undeploy()


def _cluster_setup(args: argparse.Namespace) -> serve_command.Backend:
    """The replicas deployed on the cluster, the gateway's engines over them, and trainings run
    on the cluster's nodes."""
    from engine.studio.cluster import ReplicaSettings, deploy
    from engine.studio.gateway import ClusterEngine, describe_model
    from engine.studio.replica import MAX_BATCH
    from engine.studio.training import train_on_cluster

    for name in ("replicas", "max_batch", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise EngineError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    store = (
        ModelStore(args.data, args.default_model)
        if args.data
        else ModelStore.for_user(args.default_model)
    )
    model_name = args.model or "default"
    store.resolve(model_name)  # an unknown name fails before the cluster is touched
    settings = ReplicaSettings(
        replicas=args.replicas,
        cpus=args.replica_cpus,
        gpus=args.replica_gpus,
        max_batch=args.max_batch or MAX_BATCH,
    )
    handle = deploy(args.ray, store, settings)

    def load_engine(name: str) -> ClusterEngine:
        store.resolve(name)
        return ClusterEngine(handle, name, describe_model(handle, name, settings.replicas))

    # Each of the gateway's workers waits on one job's replica; enough of them fill every batch.
    workers = args.workers or settings.replicas * settings.max_batch
    jobs = dataclasses.replace(ServerConfig().jobs, workers=workers)
    return serve_command.Backend(
        store, load_engine(model_name), model_name, load_engine, {"jobs": jobs}, train_on_cluster
    )
