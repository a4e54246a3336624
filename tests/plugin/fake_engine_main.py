"""The real server with the fake engine as a process, like `python -m engine serve --port 0`.

Usage: `python fake_engine_main.py --token-file PATH` (token file, ENGINE_READY line, SIGTERM).
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from plugin_engine import PluginFakeEngine  # noqa: E402

from engine.server.app import EngineServer  # noqa: E402
from engine.server.ready import ready_line  # noqa: E402


def main() -> None:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--token-file", type=Path, required=True)
    args = parser.parse_args()
    if not args.token_file.exists():
        args.token_file.parent.mkdir(parents=True, exist_ok=True)
        args.token_file.write_text(secrets.token_urlsafe(16))
    server = EngineServer(PluginFakeEngine(), token=args.token_file.read_text().strip())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(ready_line(server.url), flush=True)
    while not stop.wait(0.2):
        pass
    server.close()


if __name__ == "__main__":
    main()
