"""A real engine server around the tiny real model that trains into a private data folder, for the
real-Krita training test; its trainings accept two drawings (two selected layers).

Usage: python training_serve.py --token-file PATH --model DIR --data DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as a script, so the checkout is not on the path yet.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.models_store import ModelStore  # noqa: E402
from engine.pipeline import Engine  # noqa: E402
from engine.server.app import EngineServer, ServerConfig  # noqa: E402
from engine.server.auth import load_or_create_token  # noqa: E402
from engine.server.command import serve_until_stopped  # noqa: E402


def main() -> None:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--token-file", type=Path, required=True, help="created if missing")
    parser.add_argument("--model", type=Path, required=True, help="the model called default")
    parser.add_argument("--data", type=Path, required=True, help="models and trainings go here")
    args = parser.parse_args()
    store = ModelStore(args.data, default_dir=args.model)
    server = EngineServer(
        Engine.load(args.model),
        token=load_or_create_token(args.token_file),
        store=store,
        load_engine=lambda name: Engine.load(store.resolve(name)),
        config=ServerConfig(drawings=(2, 2000)),  # the test trains on two layers, not eight
    )
    serve_until_stopped(server)


if __name__ == "__main__":
    main()
