"""TensorFlow's start-up lines kept off an artist's terminal, its real errors not.

TensorFlow 2.21 writes its C++ start-up notes (oneDNN, CUDA drivers, cuInit on a machine without
a GPU, absl's "before InitializeLog" banner) straight to file descriptor 2 while it loads, before
TF_CPP_MIN_LOG_LEVEL is read, so no environment variable silences them. They read like failures.
The first `import tensorflow` therefore runs with descriptor 2 captured, and every captured line
that is not such a note is written on afterwards; an import that fails still raises.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

# absl's banner, and its log lines below error level ("I1206 23:30:41.123 1234 port.cc:153] ...").
_NOTE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} )")
# Errors TensorFlow logs at start-up that only mean "no GPU here" or "registered twice".
_HARMLESS_ERROR = re.compile(
    r"^E\d{4} .*(failed call to cuInit|Unable to register cu(DNN|FFT|BLAS) factory|"
    r"computation placer already registered)"
)


def is_startup_note(line: str) -> bool:
    """True for a line TensorFlow prints at start-up that asks nothing of the reader."""
    return bool(_NOTE.match(line) or _HARMLESS_ERROR.match(line))


def quiet_tensorflow_startup() -> None:
    """Make the process's first `import tensorflow` keep its start-up notes to itself."""
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, _QuietFinder) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietFinder())


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds tensorflow as usual, once, and hands back a loader that captures its notes."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _notes_dropped():
            self._loader.exec_module(module)
            # Finding the devices loads CUDA where it is installed: cuInit's complaint comes here.
            module.config.list_physical_devices()


@contextmanager
def _notes_dropped() -> Iterator[None]:
    """Capture descriptor 2; afterwards write on what was not a start-up note."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(keepends=True) if not is_startup_note(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()
