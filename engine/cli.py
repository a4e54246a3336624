"""`python -m engine`: the command line. The only module that reads argv.

Each command is a module with HELP, DESCRIPTION, add_arguments(parser) and run(args); the
modules import TensorFlow only inside run, so --help stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from engine import __version__
from engine.errors import EngineError
from engine.startup_noise import quiet_tensorflow_startup

EXIT_USAGE = 2

COMMANDS = {
    "generate": "engine.commands.generate",
    "train": "engine.commands.train",
    "evaluate": "engine.commands.evaluate",
    "compare-models": "engine.commands.compare_models",
    "bench": "engine.commands.bench",
    "measure-teaching": "engine.commands.measure_teaching",
    "bench-training": "engine.commands.bench_training",
    "bench-uploads": "engine.commands.bench_uploads",
    "serve": "engine.server.command",
    "studio": "engine.studio.command",
    "bench-studio": "engine.commands.bench_studio",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user errors print one line and return exit code 2."""
    # TensorFlow's C++ chatter is noise to an artist reading the terminal: its start-up notes
    # (which no setting silences) are dropped at import, the rest is held to errors.
    quiet_tensorflow_startup()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as error:
        # A library missing or broken (TensorFlow's, say) is the installation's fault, not the
        # input's: say so in one line rather than in a traceback through TensorFlow's internals.
        print(
            f"error: the engine's installation is broken ({error}): install it again "
            "(make install, or make venv in a checkout)",
            file=sys.stderr,
        )
        return 1
    except Exception as error:
        if not _out_of_memory(error):
            raise
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(
            f"error: out of memory ({reason}): make fewer variants at once, use a smaller layer, "
            "or close other programs",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _out_of_memory(error: BaseException) -> bool:
    """Python's MemoryError, or TensorFlow's ResourceExhaustedError (only if it is loaded)."""
    if isinstance(error, MemoryError):
        return True
    tensorflow = sys.modules.get("tensorflow")
    return tensorflow is not None and isinstance(error, tensorflow.errors.ResourceExhaustedError)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine",
        description="Sketch Variants engine: detailed variants of a rough sketch.",
    )
    parser.add_argument("--version", action="version", version=f"sketch-variants {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser
