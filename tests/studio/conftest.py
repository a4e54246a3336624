"""A real two-node Ray cluster on loopback, the studio's gateway on it, and the single-process
engine beside it for comparison: started once per test module (a cluster takes ~40 s)."""

from __future__ import annotations

import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.models_store import ModelStore
from engine.server.app import EngineServer
from engine.server.client import Client
from engine.server.ready import parse_ready_line
from engine.studio.local_cluster import LocalCluster
from tests.server.processes import first_line, spawn, stderr_tail, stop

MODEL = "tiny"  # the studio's selected model: the tests' tiny real model
ARTISTS_MODELS = {"alice": 11, "bob": 12}  # each artist's taught model, by its weights' seed


@dataclass
class Studio:
    """The gateway's address and token, the cluster under it, and the shared data folder."""

    url: str
    token: str
    cluster: LocalCluster
    store: ModelStore
    logs: Path  # the gateway's stderr.txt is here
    gateway_pid: int

    def gateway_log(self) -> str:
        """What the gateway wrote to stderr so far."""
        return (self.logs / "stderr.txt").read_text(errors="replace")

    def client(self) -> Client:
        """An HTTP client of the gateway with its token."""
        return Client(self.url, self.token, timeout=120)


@pytest.fixture(scope="module")
def studio_store(tmp_path_factory, tiny_model_dir, tiny_config) -> ModelStore:
    """The studio's data folder: the tiny model and two artists' own (differently weighted)."""
    from engine.model import build_network
    from engine.weights import save_model

    root = tmp_path_factory.mktemp("studio-data")
    shutil.copytree(tiny_model_dir, root / "models" / MODEL)
    for name, seed in ARTISTS_MODELS.items():
        network = build_network(tiny_config.network)
        rng = np.random.default_rng(seed)
        for weight in network.trainable_weights:
            weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
        save_model(network, tiny_config, root / "models" / name, {"note": f"{name}'s model"})
    return ModelStore(root, default_dir=tiny_model_dir)


@pytest.fixture(scope="module")
def studio(tmp_path_factory, studio_store) -> Iterator[Studio]:
    """`python -m engine studio` on a head and a worker node of two cores each: two replicas of
    one core, and a core left for a training."""
    logs = tmp_path_factory.mktemp("studio-gateway")
    with LocalCluster(workers=1, cpus=2) as cluster:
        command = [
            sys.executable,
            "-m",
            "engine",
            "studio",
            "--ray",
            cluster.address,
            "--data",
            str(studio_store.root),
            "--default-model",
            str(studio_store.default_dir),
            "--model",
            MODEL,
            "--replicas",
            "2",
            "--token-file",
            str(logs / "token"),
        ]
        gateway = spawn(command, logs)
        try:
            url = parse_ready_line(first_line(gateway, logs, timeout=300))
            assert url is not None, stderr_tail(logs)
            token = (logs / "token").read_text().strip()
            yield Studio(url, token, cluster, studio_store, logs, gateway.pid)
        finally:
            stop(gateway)


@pytest.fixture(scope="module")
def engines(studio_store) -> dict:
    """The single-process Engine of each of the studio's models, for the same requests."""
    from engine.pipeline import Engine

    names = [MODEL, *ARTISTS_MODELS]
    return {name: Engine.load(studio_store.resolve(name)) for name in names}


@pytest.fixture(scope="module")
def single_process(engines, studio_store) -> Iterator[Client]:
    """The single-process server over the same models, in this process."""
    from engine.pipeline import Engine

    token = secrets.token_urlsafe(16)
    server = EngineServer(
        engines[MODEL],
        token=token,
        model_name=MODEL,
        load_engine=lambda name: Engine.load(studio_store.resolve(name)),
        store=studio_store,
    )
    server.start()
    try:
        yield Client(server.url, token, timeout=60)
    finally:
        server.close()


def replica_pids(cluster: LocalCluster) -> list[int]:
    """The processes of this cluster's model replicas (Ray names them
    ray::ServeReplica:<app>:...), not those of another test run's cluster on the machine."""
    return cluster_pids(cluster, b"ServeReplica:sketch-variants")


def cluster_pids(cluster: LocalCluster, title: bytes) -> list[int]:
    """The processes of this cluster's nodes whose command line (Ray's title for a worker: the
    actor it runs) holds `title`."""
    nodes = {node.pid for node in cluster.nodes}
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if title in command and nodes & _ancestors(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def _ancestors(pid: int) -> set[int]:
    """The process ids above `pid`, up to the first one that is gone or init."""
    found = set()
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: ppid
        found.add(pid)
    return found
