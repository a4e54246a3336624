"""The command line: one-line errors with exit code 2, and generate with the shipped weights."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.paths import DEFAULT_MODEL_DIR

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sketch_file(tmp_path, circle_sketch):
    path = tmp_path / "ring.png"
    Image.fromarray(circle_sketch, "RGBA").save(path)
    return path


def _error_of(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "paint"], "unsupported mode 'paint'"),
        (["--radius", "40"], "radius 40 is out of range"),
        (["--count", "0"], "count 0 is out of range"),
        (["--strength", "2"], "strength 2.0 is out of range"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(capsys, sketch_file, tmp_path, extra, message):
    code, err = _error_of(
        capsys, ["generate", str(sketch_file), "--out", str(tmp_path / "o")] + extra
    )
    assert code == 2
    assert err.count("\n") == 1 and message in err and err.startswith("error: ")


def test_missing_and_unreadable_inputs_are_named(capsys, tmp_path):
    code, err = _error_of(capsys, ["generate", str(tmp_path / "none.png"), "--out", str(tmp_path)])
    assert code == 2 and "cannot read" in err and "none.png" in err
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    code, err = _error_of(capsys, ["generate", str(text), "--out", str(tmp_path)])
    assert code == 2 and "is not a readable image" in err


def test_empty_sketch_is_refused_before_loading_a_model(capsys, tmp_path):
    empty = tmp_path / "empty.png"
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(empty)
    code, err = _error_of(
        capsys, ["generate", str(empty), "--out", str(tmp_path / "o"), "--model", "/nowhere"]
    )
    assert code == 2 and "sketch is empty" in err


def test_missing_and_corrupted_weights(capsys, sketch_file, tmp_path, tiny_model_dir):
    code, err = _error_of(
        capsys,
        ["generate", str(sketch_file), "--out", str(tmp_path), "--model", str(tmp_path / "x")],
    )
    assert code == 2 and "config.json is missing" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in tiny_model_dir.iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    (broken / "model.weights.h5").write_bytes(b"\x89HDF" + b"\0" * 64)
    code, err = _error_of(
        capsys, ["generate", str(sketch_file), "--out", str(tmp_path / "o"), "--model", str(broken)]
    )
    assert code == 2 and "corrupted" in err


def test_several_inputs_get_one_folder_each(capsys, sketch_file, tmp_path, tiny_model_dir):
    second = tmp_path / "second.png"
    second.write_bytes(sketch_file.read_bytes())
    out = tmp_path / "out"
    code = main(
        [
            "generate",
            str(sketch_file),
            str(second),
            "--count",
            "2",
            "--steps",
            "2",
            "--model",
            str(tiny_model_dir),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in (out / "ring").iterdir()) == [
        "ring_variant0_seed0.png",
        "ring_variant1_seed1.png",
    ]
    assert len(list((out / "second").iterdir())) == 2


def test_generate_with_the_shipped_weights(tmp_path, sketch_file):
    """The real command, in its own process, with the weights in weights/default."""
    assert (DEFAULT_MODEL_DIR / "model.weights.h5").is_file()
    before = sketch_file.read_bytes()
    out = tmp_path / "variants"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "generate",
            str(sketch_file),
            "--count",
            "3",
            "--seed",
            "1042",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    # Not a line of TensorFlow's start-up notes (oneDNN, CUDA drivers, cuInit) either.
    assert completed.stderr == ""
    assert sketch_file.read_bytes() == before  # the input is never modified
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"ring_variant{i}_seed{1042 + i}.png" for i in range(3)]
    sketch = np.asarray(Image.open(sketch_file))
    for file in files:
        variant = np.asarray(Image.open(file))
        assert variant.shape == sketch.shape  # same pixel size: lays over the sketch as a layer
        drawn = variant[..., 3] > 0
        assert drawn.sum() > 50  # the model drew something
        ys, xs = np.nonzero(drawn)
        # Aligned: what was drawn is centred on the ring (centre 48, 40), not elsewhere.
        assert abs(xs.mean() - 48) < 10 and abs(ys.mean() - 40) < 10


def test_no_clean_fills_leaves_the_shipped_models_fills_as_drawn(tmp_path, sketch_file):
    variants = {}
    for name, extra in (("cleaned", []), ("as_drawn", ["--no-clean-fills"])):
        out = tmp_path / name
        args = [str(sketch_file), "--count", "1", "--seed", "7", "--out", str(out), *extra]
        assert main(["generate", *args]) == 0
        (file,) = out.iterdir()
        variants[name] = np.asarray(Image.open(file), np.int16)
    cleaned, as_drawn = variants["cleaned"], variants["as_drawn"]
    assert cleaned.shape == as_drawn.shape
    # The same seed and sketch: the same drawing, its colours no longer evened out.
    assert 0 < np.abs(cleaned - as_drawn).mean() < 10


def test_running_out_of_memory_is_one_line_with_what_to_do(capsys, monkeypatch, sketch_file):
    from engine.commands import generate

    # A real exhaustion cannot be provoked on demand on a shared machine: the command raises
    # what NumPy raises when an allocation fails.
    def exhausted(args):
        raise MemoryError("Unable to allocate 3.00 GiB for an array with shape (8, 8192, 8192, 3)")

    monkeypatch.setattr(generate, "run", exhausted)
    code, err = _error_of(capsys, ["generate", str(sketch_file), "--out", str(sketch_file.parent)])
    assert code == 1
    assert err == (
        "error: out of memory (Unable to allocate 3.00 GiB for an array with shape (8, 8192, "
        "8192, 3)): make fewer variants at once, use a smaller layer, or close other programs\n"
    )


def test_errors_reach_the_terminal_without_a_traceback(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "generate",
            str(tmp_path / "missing.png"),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"error: cannot read {tmp_path / 'missing.png'}: No such file or directory"
    ]


def test_help_does_not_load_tensorflow():
    code = (
        "import sys; from engine.cli import main\n"
        "try:\n    main(['generate', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert completed.stdout.strip().endswith("False")


def test_opaque_output_is_flattened_on_white(sketch_file, tmp_path, tiny_model_dir):
    out = tmp_path / "flat"
    code = main(
        [
            "generate",
            str(sketch_file),
            "--count",
            "1",
            "--steps",
            "2",
            "--opaque",
            "--model",
            str(tiny_model_dir),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    image = np.asarray(Image.open(next(out.iterdir())))
    assert image.shape[2] == 4 and image[..., 3].min() == 255
    assert (image[0, 0, :3] == 255).all()  # far from the sketch: white paper


def test_train_fine_tunes_both_stages_on_a_folder_and_reports_on_stderr(
    capsys, tmp_path, tiny_two_stage_dir
):
    from engine.data.procedural import TRAIN_SEED, make_eyes
    from engine.weights import UPSCALER_DIR, has_model, has_upscaler

    drawings, _ = make_eyes(4, TRAIN_SEED, 48)
    for number, drawing in enumerate(drawings):
        Image.fromarray(drawing).save(tmp_path / f"{number}.png")
    out = tmp_path / "mine"
    argv = ["train", str(tmp_path), "--from", str(tiny_two_stage_dir), "--out", str(out)]
    code = main([*argv, "--steps", "2", "--upscaler-steps", "2"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == f"model written to {out}\n"
    assert "diffusion stage: 4 drawings" in captured.err
    assert "upscaling stage: 2 steps" in captured.err
    assert "\nstep 2/2  loss" in captured.err and "upscaler step 2/2  loss" in captured.err
    assert has_model(out) and has_upscaler(out) and (out / UPSCALER_DIR).is_dir()


def test_bench_prints_the_few_step_path_against_the_16_step_one(capsys, tiny_two_stage_dir):
    code = main(["bench", "--model", str(tiny_two_stage_dir), "--repeats", "1"])
    out = capsys.readouterr().out
    assert code == 0
    # The tiny model has no sampling section: its own path is the paper's 16 DDIM steps.
    assert "the model's path (ddim, 16 steps) / the 16-step path" in out
    assert "achieved/peak(" in out
    assert "768 px sketch, 8 variants, two stages   : through the socket" in out
