"""Memory and answer times of concurrent training uploads, against a real `serve` process."""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
from typing import Any

from PIL import Image, ImageDraw

from engine.server.client import Client
from engine.server.ready import parse_ready_line

SAMPLE_SECONDS = 0.02  # how often the server's resident memory is read
START_SECONDS = 300.0  # the server's start (TensorFlow and the model) on a busy machine


def stroke_png(side: int, number: int) -> bytes:
    """A transparent side x side drawing with one dark stroke, still visible at 64 px."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    width = max(2, side // 80)
    offset = side * (number % 8) // 10
    ImageDraw.Draw(image).line(
        (side // 10, offset + side // 20, side - side // 10, side - offset - side // 20),
        fill=(30, 30, 40, 255),
        width=width,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def resident_bytes(pid: int) -> int:
    """A process's resident memory now (Linux' /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no VmRSS for process {pid}")


def bench_uploads(
    model: Path | None, uploads: int = 4, drawings: int = 8, side: int = 8192, refusals: int = 5
) -> dict[str, Any]:
    """Start `python -m engine serve`, send `uploads` trainings of `drawings` drawings at once
    and time them, sampling the server's memory; then time refusals of a full queue and a
    SIGTERM while a training runs."""
    pngs = [stroke_png(side, number) for number in range(drawings)]
    body_drawings = [base64.b64encode(png).decode("ascii") for png in pngs]
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as folder:
        server, client = _start_server(Path(folder), model)
        try:
            figures = _measure(server, client, body_drawings, uploads, refusals)
            figures["png_kb"] = round(sum(map(len, pngs)) / len(pngs) / 1024)
            started = time.perf_counter()
            server.send_signal(signal.SIGTERM)
            figures["sigterm_exit_code"] = server.wait(60)
            figures["sigterm_seconds"] = time.perf_counter() - started
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            server.stdout.close()
    return figures


def _measure(
    server: subprocess.Popen, client: Client, drawings: list[str], uploads: int, refusals: int
) -> dict[str, Any]:
    baseline = resident_bytes(server.pid)
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            try:
                peak[0] = max(peak[0], resident_bytes(server.pid))
            except OSError:
                return

    answers: list[tuple[int, float]] = [(0, 0.0)] * uploads
    # The peak until the first answer: every upload still being checked, no training begun yet
    # (the first accepted one starts at once, and its memory counts in the later peak).
    before_first: list[int] = []

    def upload(number: int) -> None:
        started = time.perf_counter()
        body = {"name": f"bench upload {number}", "drawings": drawings, "steps": 300}
        answer = client.request("POST", "/v1/trainings", body)
        answers[number] = (answer.status, time.perf_counter() - started)
        if not before_first:
            before_first.append(peak[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=upload, args=(n,)) for n in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    refused = _refusal_seconds(client, drawings, refusals)
    return {
        "uploads": uploads,
        "drawings": len(drawings),
        "baseline_rss_mb": baseline / 2**20,
        "added_rss_mb": (peak[0] - baseline) / 2**20,
        "added_before_first_mb": (before_first[0] - baseline) / 2**20,
        "statuses": [status for status, _ in answers],
        "answer_seconds": [seconds for _, seconds in answers],
        "queue_full_seconds": refused,
    }


def _refusal_seconds(client: Client, drawings: list[str], count: int) -> list[float]:
    """Fill the training queue, then time `count` refusals of the same upload."""
    seconds: list[float] = []
    number = 0
    while len(seconds) < count:
        number += 1
        body = {"name": f"bench full {number}", "drawings": drawings, "steps": 300}
        started = time.perf_counter()
        answer = client.request("POST", "/v1/trainings", body)
        if answer.status == 429:
            seconds.append(time.perf_counter() - started)
        elif answer.status != 202 or number > 64:
            raise RuntimeError(f"the queue never filled: {answer.status} {answer.body[:200]!r}")
    return seconds


def _start_server(folder: Path, model: Path | None) -> tuple[subprocess.Popen, Client]:
    token_file = folder / "token"
    command = [sys.executable, "-m", "engine", "serve", "--port", "0", "--token-file"]
    command += [str(token_file), *(["--model", str(model)] if model else [])]
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    repository = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(command, cwd=repository, env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + START_SECONDS
    url = None
    while url is None and time.monotonic() < deadline and server.poll() is None:
        url = parse_ready_line(server.stdout.readline())
    if url is None:
        server.kill()
        server.wait()
        server.stdout.close()
        raise RuntimeError("the engine server did not start")
    return server, Client(url, token_file.read_text().strip(), timeout=600)


def report(figures: dict[str, Any]) -> str:
    """The figures as lines for a terminal."""
    answers = figures["answer_seconds"]
    refusals = figures["queue_full_seconds"]
    return "\n".join(
        [
            f"{figures['uploads']} concurrent uploads of {figures['drawings']} drawings "
            f"({figures['png_kb']} KB PNGs each)",
            f"  answers: {', '.join(str(s) for s in figures['statuses'])} in "
            f"{min(answers):.1f}-{max(answers):.1f} s",
            f"  server memory: {figures['baseline_rss_mb']:.0f} MB before, "
            f"+{figures['added_before_first_mb']:.0f} MB at most until the first answer (all four "
            f"checked, no training begun), +{figures['added_rss_mb']:.0f} MB until the last",
            f"full queue: 429 in {median(refusals):.3f} s median, {max(refusals):.3f} s max "
            f"({len(refusals)} refusals of the same upload)",
            f"SIGTERM with a training running: exit {figures['sigterm_exit_code']} after "
            f"{figures['sigterm_seconds']:.1f} s",
        ]
    )
