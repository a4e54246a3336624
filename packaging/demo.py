"""`make demo`: run the engine, send the bundled sketch over HTTP, save variants and a sheet."""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from engine.server.client import Client
from engine.server.ready import parse_ready_line

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SKETCH = ROOT / "examples" / "eye_sketch.png"
DEFAULT_OUT = ROOT / "out" / "demo"
CELL = 256  # contact-sheet cell height in pixels
LABEL_HEIGHT = 24
GAP = 8


class DemoError(RuntimeError):
    """The demo could not finish; the message says which step failed."""


# --- the engine process --------------------------------------------------------------------------


class EngineProcess:
    """The engine server as a child process, with its stdout drained on a thread."""

    def __init__(self, command: list[str]) -> None:
        # The engine's command line keeps TensorFlow's start-up notes off the terminal itself.
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url: str | None = None
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        # Keep draining after the ready line so a chatty engine never blocks on a full pipe.
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                url = parse_ready_line(line) if self.url is None else None
                if url:
                    self.url = url
                    self._ready.set()
                else:
                    print(f"engine: {line.rstrip()}", flush=True)
        self._ready.set()  # the engine exited: wake the waiter

    def wait_ready(self, timeout: float) -> str:
        """The server's URL once its ready line arrives; DemoError if it exits or times out."""
        if not self._ready.wait(timeout) or self.url is None:
            self.stop()
            code = self.process.returncode
            raise DemoError(f"the engine did not report ready within {timeout:.0f} s (exit {code})")
        return self.url

    def stop(self, grace: float = 20.0) -> None:
        """Ask the engine to stop (SIGTERM), and kill it if it has not within the grace period."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(grace)


def start_engine(command: list[str], timeout: float) -> EngineProcess:
    """Start the engine server and wait until it is ready."""
    engine = EngineProcess(command)
    engine.wait_ready(timeout)
    return engine


# --- the job over HTTP ---------------------------------------------------------------------------


def generate(client: Client, sketch_png: bytes, count: int) -> list[tuple[int, bytes]]:
    """Submit a job, print its progress from the event stream; return its variants (seed, PNG)."""
    payload = {"sketch_png": base64.b64encode(sketch_png).decode(), "count": count}
    try:
        answer = client.request("POST", "/v1/jobs", payload)
        if answer.status != 202:
            raise DemoError(f"POST /v1/jobs -> HTTP {answer.status}: {_detail(answer.body)}")
        job_id = answer.json()["id"]
        final: dict = {}
        for name, data in client.events(job_id):
            if name == "progress":
                print(f"  step {data.get('step')}/{data.get('total', '?')}", flush=True)
            elif name == "state":
                final = data
        if final.get("state") != "done":
            raise DemoError(f"job {final.get('state', 'lost')}: {final.get('error')}")
        answer = client.request("GET", f"/v1/jobs/{job_id}/result")
    except (OSError, RuntimeError) as error:  # connection lost, timed out, or events refused
        raise DemoError(f"the engine stopped answering: {error}") from None
    if answer.status != 200:
        raise DemoError(f"GET result -> HTTP {answer.status}: {_detail(answer.body)}")
    return [(int(v["seed"]), base64.b64decode(v["png"])) for v in answer.json()["variants"]]


def _detail(body: bytes) -> str:
    return body.decode(errors="replace")[:300]


# --- pictures ------------------------------------------------------------------------------------


def _on_white(png: bytes) -> Image.Image:
    """A PNG flattened onto white, since sketches and variants may be transparent."""
    with Image.open(io.BytesIO(png)) as image:
        rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, "white")
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB")


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=16)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def contact_sheet(sketch_png: bytes, variants: list[tuple[int, bytes]]) -> Image.Image:
    """The sketch on the left, its variants in a grid to the right, each labelled (seeds)."""
    sketch = _on_white(sketch_png)
    width = max(1, round(CELL * sketch.width / sketch.height))
    rows = 1 if len(variants) <= 4 else 2
    cols = max(1, math.ceil(len(variants) / rows))
    cell_w, cell_h = width + GAP, CELL + LABEL_HEIGHT + GAP
    sheet_h = rows * cell_h + GAP
    sheet = Image.new("RGB", (GAP + (cols + 1) * cell_w + GAP, sheet_h), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font()

    def paste(image: Image.Image, x: int, y: int, label: str) -> None:
        sheet.paste(image.resize((width, CELL), Image.Resampling.LANCZOS), (x, y))
        # A hairline frame, so white-on-white cells still read as separate pictures.
        draw.rectangle((x - 1, y - 1, x + width, y + CELL), outline=(200, 200, 200))
        draw.text((x + 4, y + CELL + 4), label, fill="black", font=font)

    # The sketch is centred vertically beside the grid, with an extra gap to set it apart.
    paste(sketch, GAP, (sheet_h - CELL - LABEL_HEIGHT) // 2, "sketch")
    for index, (seed, png) in enumerate(variants):
        row, col = divmod(index, cols)
        paste(_on_white(png), 2 * GAP + (col + 1) * cell_w, GAP + row * cell_h, f"seed {seed}")
    return sheet


def write_results(out: Path, sketch_png: bytes, variants: list[tuple[int, bytes]]) -> Path:
    """Write the sketch, each variant and the contact sheet into `out`; return the sheet's path."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("variant_*.png"):
        stale.unlink()  # a previous run with other seeds must not look like part of this one
    (out / "sketch.png").write_bytes(sketch_png)
    for index, (seed, png) in enumerate(variants):
        (out / f"variant_{index}_seed{seed}.png").write_bytes(png)
    sheet_path = out / "contact.png"
    contact_sheet(sketch_png, variants).save(sheet_path)
    return sheet_path


# --- the .kra through real Krita -----------------------------------------------------------------

KRITA_TOOLS = ("krita", "kritarunner", "Xvfb")


def krita_available() -> str:
    """ "" when the .kra can be made here, else why not."""
    missing = [tool for tool in KRITA_TOOLS if shutil.which(tool) is None]
    return f"{', '.join(missing)} not installed" if missing else ""


def make_kra(url: str, token: str, sketch: Path, kra: Path, count: int, timeout: float) -> dict:
    """Run the plugin in headless Krita against the running engine to write `kra`."""
    # A throwaway Krita home with the plugin put there by install.py, as the real-Krita tests do.
    from krita_harness import make_home, run_krita

    with tempfile.TemporaryDirectory(prefix="sketch-variants-demo-") as folder:
        home = make_home(Path(folder) / "home")
        results = Path(folder) / "results.json"
        kra.unlink(missing_ok=True)
        run = run_krita(
            home,
            ["kritarunner", "-s", "krita_demo", "-f", "main"],
            timeout=timeout,
            log_name="demo-kritarunner.log",
            SV_SERVER_URL=url,
            SV_TOKEN=token,
            SV_COUNT=str(count),
            SV_SKETCH=str(sketch.resolve()),
            SV_KRA=str(kra.resolve()),
            SV_RESULTS=str(results),
            SV_JOB_TIMEOUT=str(timeout),
        )
        if not results.exists():
            raise DemoError(f"Krita wrote no results (exit {run.returncode}): {run.stderr[-600:]}")
        facts = json.loads(results.read_text())
    if not facts.get("saved"):
        raise DemoError(f"Krita did not save {kra}: {facts.get('error') or facts.get('message')}")
    return facts


# --- main ----------------------------------------------------------------------------------------


def run_demo(
    sketch: Path,
    out: Path,
    count: int,
    engine_command: list[str] | None,
    timeout: float,
    with_krita: bool = True,
) -> Path:
    """Start the engine, get variants of the sketch over HTTP (and a .kra via Krita); write them."""
    if not sketch.is_file():
        raise DemoError(f"no example sketch at {sketch}")
    out.mkdir(parents=True, exist_ok=True)
    token_file = out / "token"
    command = engine_command or [sys.executable, "-m", "engine", "serve", "--port", "0"]
    command = [*command, "--token-file", str(token_file)]
    print(f"starting the engine: {shlex.join(command)}", flush=True)
    engine = start_engine(command, timeout)
    try:
        print(f"engine ready at {engine.url}; asking for {count} variants", flush=True)
        client = Client(engine.url or "", token_file.read_text().strip(), timeout=timeout)
        sketch_png = sketch.read_bytes()
        started = time.monotonic()
        variants = generate(client, sketch_png, count)
        print(f"{len(variants)} variants in {time.monotonic() - started:.1f} s", flush=True)
        sheet = write_results(out, sketch_png, variants)
        why_not = krita_available() if with_krita else "--no-krita"
        if why_not:
            print(f"no demo.kra: {why_not}", flush=True)
        else:
            print("making demo.kra through the plugin in headless Krita...", flush=True)
            kra = out / "demo.kra"
            facts = make_kra(engine.url or "", client.token, sketch, kra, count, timeout)
            print(f"demo.kra: {facts.get('message', '')}", flush=True)
    finally:
        engine.stop()
    return sheet


def main(argv: list[str] | None = None) -> int:
    """Command line for `make demo`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sketch", type=Path, default=DEFAULT_SKETCH, help="sketch PNG to send")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the results")
    parser.add_argument("--count", type=int, default=8, help="number of variants")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for each wait")
    parser.add_argument(
        "--engine-command", help="command that serves the engine (default: python -m engine serve)"
    )
    parser.add_argument("--no-krita", action="store_true", help="skip demo.kra even with Krita")
    args = parser.parse_args(argv)
    command = shlex.split(args.engine_command) if args.engine_command else None
    try:
        sheet = run_demo(
            args.sketch, args.out, args.count, command, args.timeout, not args.no_krita
        )
    except DemoError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    print(f"\nvariants and sketch: {args.out}/\ncontact sheet:       {sheet}")
    if (args.out / "demo.kra").exists():
        print(f"Krita document:      {args.out / 'demo.kra'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
