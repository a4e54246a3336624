"""Training batches follow the paper's recipe; a tiny run checkpoints, resumes and fine-tunes."""

import dataclasses

import numpy as np

from engine.cli import main
from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.diffusion.method import mask_guide
from engine.diffusion.noise import constant_noise
from engine.diffusion.schedule import rates
from engine.train import (
    SKETCH_START_TIMES,
    Trainer,
    loss_weights,
    make_batch,
    prepare_training_set,
    train,
)
from engine.weights import load_model


def _data(config):
    drawings, sketches = make_eyes(6, TRAIN_SEED, config.network.image_size)
    return prepare_training_set(drawings, sketches)


def test_batch_has_constant_noise_outside_and_white_targets(tiny_config):
    data = _data(tiny_config)
    constant = constant_noise(tiny_config.noise, tiny_config.network.image_size)
    config = dataclasses.replace(
        tiny_config,
        train=dataclasses.replace(tiny_config.train, batch_size=16, full_mask_fraction=0.0),
    )
    batch = make_batch(data, config, constant, np.random.default_rng(0))
    outside = batch.masks[..., 0] == 0
    assert outside.any() and (~outside).any()
    for i in range(16):
        np.testing.assert_array_equal(batch.noisy_images[i][outside[i]], constant[outside[i]])
        assert np.all(batch.targets[i][outside[i]] == 1.0)  # white background to predict
    # Masks differ between examples: random radius (and sketch) per example.
    assert len({int(m.sum()) for m in batch.masks}) > 1


def test_full_recipe_noises_the_whole_image(tiny_config):
    data = _data(tiny_config)
    constant = constant_noise(tiny_config.noise, tiny_config.network.image_size)
    config = dataclasses.replace(
        tiny_config, train=dataclasses.replace(tiny_config.train, recipe="full")
    )
    batch = make_batch(data, config, constant, np.random.default_rng(0))
    assert np.all(batch.masks == 1.0)


def test_training_writes_a_loadable_model(tmp_path, tiny_config):
    trainer = train(
        tiny_config, _data(tiny_config), tmp_path, checkpoint_every=2, report=lambda t: None
    )
    assert trainer.step == tiny_config.train.steps
    network, config = load_model(tmp_path)
    assert config == tiny_config
    for a, b in zip(trainer.ema_network.get_weights(), network.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resuming_from_a_checkpoint_continues_exactly(tmp_path, tiny_config):
    data = _data(tiny_config)
    straight = Trainer(tiny_config, data, tmp_path / "straight")
    for _ in range(4):
        straight.run_step()

    interrupted = Trainer(tiny_config, data, tmp_path / "resumed")
    for _ in range(2):
        interrupted.run_step()
    interrupted.save_checkpoint(loss=0.0)
    resumed = Trainer(tiny_config, data, tmp_path / "resumed")
    assert resumed.resume() and resumed.step == 2
    for _ in range(2):
        resumed.run_step()
    for a, b in zip(straight.network.get_weights(), resumed.network.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fine_tuning_starts_from_the_given_model(tmp_path, tiny_model_dir, tiny_config):
    data = _data(tiny_config)
    start, _ = load_model(tiny_model_dir)
    config = dataclasses.replace(
        tiny_config, train=dataclasses.replace(tiny_config.train, steps=1, learning_rate=1e-9)
    )
    tuned = train(config, data, tmp_path / "tuned", from_dir=tiny_model_dir, report=lambda t: None)
    # With a vanishing learning rate the tuned weights stay at the starting model's.
    for a, b in zip(start.trainable_weights, tuned.network.trainable_weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4)


def test_colour_reach_weighs_a_highlight_in_an_iris_as_much_as_the_iris(tiny_config):
    targets = np.ones((1, 8, 8, 3), np.float32)  # white paper
    targets[0, 2:6, 2:6] = (-1.0, 0.0, 1.0)  # an iris of chroma 1
    targets[0, 3, 3] = 1.0  # a white highlight in it
    masks = np.ones((1, 8, 8, 1), np.float32)
    rates = np.full((1, 1, 1, 1), 0.5, np.float32)

    def weights(reach: int) -> np.ndarray:
        recipe = dataclasses.replace(tiny_config.train, colour_weight=4.0, colour_reach=reach)
        config = dataclasses.replace(tiny_config, train=recipe)
        return loss_weights(masks, rates, targets, config)[0, ..., 0]

    own, reached = weights(0), weights(1)
    assert own[3, 3] == 1.0 and own[4, 4] == 5.0  # the highlight weighs a fifth of the iris
    assert reached[3, 3] == 5.0 and reached[4, 4] == 5.0
    assert reached[1, 1] == 5.0 and reached[0, 0] == 1.0  # a pixel from the iris, not two


def test_sketch_started_examples_noise_the_sketchs_guide_at_a_generation_start(tiny_config):
    drawings, sketches = make_eyes(1, TRAIN_SEED, tiny_config.network.image_size)
    data = prepare_training_set(drawings, sketches)
    # A schedule that keeps most of the signal, so what was noised shows through the noise.
    schedule = dataclasses.replace(tiny_config.schedule, min_signal_rate=0.9)
    recipe = dataclasses.replace(
        tiny_config.train, batch_size=8, full_mask_fraction=0.0, sketch_start=1.0
    )
    config = dataclasses.replace(tiny_config, schedule=schedule, train=recipe)
    constant = constant_noise(config.noise, config.network.image_size)
    batch = make_batch(data, config, constant, np.random.default_rng(0))

    guide = mask_guide(sketches[0].astype(np.float32) / 127.5 - 1.0)
    lowest, highest = (rates(t, schedule)[0] for t in SKETCH_START_TIMES)
    for i in range(8):
        noise_rate = float(batch.noise_rates[i].squeeze())
        assert lowest <= noise_rate <= highest
        signal_rate = np.sqrt(1 - noise_rate**2)
        inside = batch.masks[i, ..., 0] > 0
        flipped = not np.array_equal(batch.targets[i][inside], data.images[0][inside])
        started, drawing = (
            (guide, data.images[0]) if not flipped else (guide[:, ::-1], data.images[0][:, ::-1])
        )
        np.testing.assert_array_equal(batch.targets[i][inside], drawing[inside])  # to draw
        from_guide = (batch.noisy_images[i] - signal_rate * started)[inside] / noise_rate
        from_drawing = (batch.noisy_images[i] - signal_rate * drawing)[inside] / noise_rate
        assert abs(from_guide.std() - 1.0) < 0.1  # exactly the noise: the guide was noised
        assert from_drawing.std() > 1.2


def test_a_colour_reach_out_of_range_is_one_line(capsys, tmp_path):
    code = main(["train", "--procedural", "4", "--out", str(tmp_path), "--colour-reach", "9"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--colour-reach must be 0 to 8, got 9" in err


def test_a_sketch_start_out_of_range_is_one_line(capsys, tmp_path):
    code = main(["train", "--procedural", "4", "--out", str(tmp_path), "--sketch-start", "1.5"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--sketch-start must be 0 to 1, got 1.5" in err
