"""Benchmark of the server path: submit -> all variants over loopback, against bare generate."""

from __future__ import annotations

import base64
import dataclasses
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

from engine.images import encode_png
from engine.request import GenerateRequest
from engine.server.app import EngineServer
from engine.server.client import Client
from engine.server.jobs import GenerateEngine


def resident_memory_mb() -> float:
    """This process's resident memory in MB (current where /proc exists, else peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # not on Windows; only reached where /proc is missing

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def served_seconds(client: Client, request: GenerateRequest) -> float:
    """Seconds from encoding the sketch to the last variant decoded, through the server.

    The client's own encoding is part of the path a plugin pays for.
    """
    params = {
        "mode": request.mode,
        "count": request.count,
        "radius": request.radius,
        "strength": request.strength,
        "seed": request.seed,
        "steps": request.steps,
        "upscale": request.upscale,
    }
    start = time.perf_counter()
    payload = {"sketch_png": base64.b64encode(encode_png(request.sketch)).decode()}
    job_id = client.request("POST", "/v1/jobs", {**payload, **params}).json()["id"]
    final = client.wait(job_id)
    variants = client.result(job_id)
    seconds = time.perf_counter() - start
    if final.get("state") != "done" or len(variants) != request.count:
        raise RuntimeError(f"server job ended {final}")
    return seconds


def bench_server(engine: GenerateEngine, request: GenerateRequest, repeats: int) -> dict[str, Any]:
    """Median seconds of bare generate and of the server path, overhead share and idle RSS."""
    engine.generate(request)  # warm the model: the first call traces graphs
    bare = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine.generate(request)
        bare.append(time.perf_counter() - start)
    token = secrets.token_urlsafe(16)
    with EngineServer(engine, token=token) as server:
        server.start()
        client = Client(server.url, token)
        idle_rss = resident_memory_mb()
        served = [served_seconds(client, request) for _ in range(repeats)]
    bare_s, server_s = statistics.median(bare), statistics.median(served)
    return {
        "repeats": repeats,
        "variants": request.count,
        "bare_seconds": bare_s,
        "server_seconds": server_s,
        # Noise can make this negative when the model time dominates; the fraction clamps at 0.
        "overhead_seconds": server_s - bare_s,
        # Share of the served time spent outside the model: HTTP, JSON, PNG, base64, queue.
        "overhead_fraction": max(0.0, (server_s - bare_s) / server_s) if server_s else 0.0,
        "idle_rss_mb": idle_rss,
    }


LAYER_SIDES = (256, 768)  # a small sketch, and an eye as artists draw it on a real canvas


def bench_layers(
    engine, make_request: Callable[[int], GenerateRequest], repeats: int
) -> list[dict[str, Any]]:
    """8 variants of sketches at LAYER_SIDES, with and without the upsampling stage, both bare
    and through the socket (the stage's cost is resizing less and sending larger PNGs)."""
    rows = []
    for side in LAYER_SIDES:
        for upscale in (False, True):
            request = dataclasses.replace(make_request(side), upscale=upscale)
            figures = bench_server(engine, request, repeats)
            rows.append({"side": side, "upscale": upscale, **figures})
    return rows
