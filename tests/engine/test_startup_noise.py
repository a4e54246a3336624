"""TensorFlow's start-up notes stay off the terminal; what else it writes, and a broken install,
still reach it (in one line from the CLI)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796600316.649634   21649 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1796600316.650627   21649 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "E0000 00:00:1796600316.650627   21649 cuda_executor.cc:1228] failed call to cuInit: "
    "CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
]
REAL_ERROR = "E0000 00:00:1796600316.7 21649 bfc_allocator.cc:485] Allocator ran out of memory"


def _stand_in(folder: Path, last_words: str) -> Path:
    """A `tensorflow` package that writes TensorFlow's start-up lines to descriptor 2 as it
    loads, then runs `last_words` (the real one cannot be made to fail on purpose)."""
    package = folder / "tensorflow"
    package.mkdir()
    lines = "".join(f"{line}\n" for line in NOTES)
    (package / "__init__.py").write_text(
        f"import os\nos.write(2, {lines.encode()!r})\n{last_words}\n"
        "class config:\n    list_physical_devices = staticmethod(lambda: [])\n"
    )
    return folder


def _run(argv: list[str], path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(REPO)])},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_up_notes_are_dropped_and_other_lines_kept(tmp_path: Path) -> None:
    path = _stand_in(tmp_path, f"os.write(2, {(REAL_ERROR + chr(10)).encode()!r})")
    code = (
        "from engine.startup_noise import quiet_tensorflow_startup\n"
        "quiet_tensorflow_startup()\nimport tensorflow\nprint('imported')"
    )
    run = _run(["-c", code], path)
    assert run.returncode == 0 and run.stdout == "imported\n", run.stderr
    assert run.stderr.splitlines() == [REAL_ERROR]


def test_a_broken_tensorflow_install_is_one_line_from_the_cli(tmp_path: Path) -> None:
    broken = "raise ImportError('libtensorflow_cc.so.2: cannot open shared file')"
    path = _stand_in(tmp_path, broken)
    sketch = REPO / "examples" / "eye_sketch.png"
    run = _run(["-m", "engine", "generate", str(sketch), "--out", str(tmp_path / "out")], path)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "error: the engine's installation is broken (libtensorflow_cc.so.2: cannot open shared "
        "file): install it again (make install, or make venv in a checkout)"
    ]
    assert not (tmp_path / "out").exists()
