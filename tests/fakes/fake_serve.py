"""The real server around the FakeEngine, in a process of its own, started and stopped like `serve`.

Usage: python fake_serve.py --token-file PATH [--hold] [--open-files N] [--store DIR
    --default-model DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as a script (by the plugin, the demo or a test), so the checkout is not on the path yet.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.models_store import ModelStore  # noqa: E402
from engine.server.app import EngineServer  # noqa: E402
from engine.server.auth import load_or_create_token  # noqa: E402
from engine.server.command import serve_until_stopped  # noqa: E402
from tests.fakes.fake_engine import FakeEngine  # noqa: E402


def main() -> None:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--token-file", type=Path, required=True, help="created if missing")
    parser.add_argument("--hold", action="store_true", help="jobs wait at their first step")
    parser.add_argument("--open-files", type=int, help="lower this process's descriptor limit")
    parser.add_argument("--store", type=Path, help="train into this data folder (real trainings)")
    parser.add_argument("--default-model", type=Path, help="the store's default model folder")
    args = parser.parse_args()
    if args.open_files:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.open_files, hard))
    engine = FakeEngine(hold=args.hold)
    store = ModelStore(args.store, args.default_model) if args.store else None
    token = load_or_create_token(args.token_file)
    serve_until_stopped(EngineServer(engine, token=token, store=store))


if __name__ == "__main__":
    main()
