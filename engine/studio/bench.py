"""Throughput of concurrent artists on a loopback Ray cluster, batched and not, against the
single-process engine, and the latency one job adds by going through the cluster."""

from __future__ import annotations

import dataclasses
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.models_store import ModelStore
from engine.server.app import EngineServer
from engine.server.client import Client
from engine.server.config import ServerConfig
from engine.studio.cluster import ReplicaSettings, deploy, undeploy
from engine.studio.gateway import ClusterEngine, describe_model
from engine.studio.local_cluster import LocalCluster


@dataclass(frozen=True)
class Load:
    """What the artists ask for: each sends `jobs` jobs one after another, all at once."""

    sketch: np.ndarray  # (H, W, 4) uint8, every job's sketch
    artists: int = 4
    jobs: int = 5  # per artist
    count: int = 2  # variants per job
    steps: int = 16
    upscale: bool = False  # stage 2 runs per job, unbatched: off measures what batching does

    def params(self, seed: int) -> dict:
        """One job's parameters."""
        return {"seed": seed, "count": self.count, "steps": self.steps, "upscale": self.upscale}


def variants_per_second(client: Client, load: Load) -> float:
    """Variants a second while `load.artists` artists each run their jobs back to back."""
    errors: list[str] = []

    def artist(number: int) -> None:
        for job in range(load.jobs):
            job_id = client.submit(load.sketch, **load.params(1000 * number + job))
            final = client.wait(job_id)
            if final.get("state") != "done":
                errors.append(str(final))
            else:
                client.result(job_id)

    threads = [threading.Thread(target=artist, args=(n,)) for n in range(load.artists)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"a benchmark job did not finish: {errors[0]}")
    return load.artists * load.jobs * load.count / elapsed


def warm_up(client: Client, load: Load) -> None:
    """One round of the load untimed: every replica loads the model and traces its graphs for
    the batch shapes the load makes (a new stack size costs a trace, seconds on a CPU)."""
    variants_per_second(client, dataclasses.replace(load, jobs=2))


def one_job_seconds(client: Client, load: Load, repeats: int) -> float:
    """Median seconds from submit to fetched result of one job alone."""
    times = []
    for repeat in range(repeats):
        start = time.perf_counter()
        job_id = client.submit(load.sketch, **load.params(repeat))
        client.wait(job_id)
        client.result(job_id)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _served(engine, workers: int) -> tuple[EngineServer, Client]:
    token = secrets.token_urlsafe(16)
    config = ServerConfig(jobs=dataclasses.replace(ServerConfig().jobs, workers=workers))
    server = EngineServer(engine, token=token, config=config)
    server.start()
    return server, Client(server.url, token, timeout=600)


def run_bench(model_dir: Path, load: Load, repeats: int, report: Callable[[str], None]) -> dict:
    """Every figure, measured one configuration after the other; `report` gets each line."""
    from engine.pipeline import Engine

    figures: dict[str, float] = {}
    server, client = _served(Engine.load(model_dir), workers=1)
    try:
        warm_up(client, load)
        figures["single_process"] = variants_per_second(client, load)
        report(f"single-process engine: {figures['single_process']:.2f} variants/s")
        figures["single_process_job_s"] = one_job_seconds(client, load, repeats)
    finally:
        server.close()
    store = ModelStore(Path(tempfile.mkdtemp(prefix="sv-bench-")), default_dir=model_dir)
    with LocalCluster(workers=1, cpus=1) as cluster:
        report("cluster: a head and a worker node on loopback, one core and one replica each")
        try:
            for name, max_batch in (("unbatched", 1), ("batched", 8)):
                settings = ReplicaSettings(replicas=2, max_batch=max_batch)
                handle = deploy(cluster.address, store, settings)
                engine = ClusterEngine(handle, "default", describe_model(handle, "default", 2))
                server, client = _served(engine, workers=2 * max_batch)
                try:
                    warm_up(client, load)
                    figures[name] = variants_per_second(client, load)
                    report(f"cluster, {name}: {figures[name]:.2f} variants/s")
                    if name == "batched":
                        figures["cluster_job_s"] = one_job_seconds(client, load, repeats)
                finally:
                    server.close()
        finally:
            undeploy()
    added = figures["cluster_job_s"] - figures["single_process_job_s"]
    report(
        f"one job alone: {figures['single_process_job_s'] * 1000:.0f} ms single-process, "
        f"{figures['cluster_job_s'] * 1000:.0f} ms through the cluster (+{added * 1000:.0f} ms)"
    )
    return figures
