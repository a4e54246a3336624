"""Colour guidance: the sampler's guided prediction, its setting, and its distillation into the
network so that the shipped model draws guided colours in one call a step."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.cli import main
from engine.config import ModelConfig, SamplingConfig
from engine.data.procedural import TRAIN_SEED, make_eyes
from engine.diffusion.guidance import guided_prediction
from engine.errors import EngineError
from engine.model import denoise
from engine.request import GenerateRequest
from engine.train import WHITE, GuidanceDistiller, prepare_training_set, train
from engine.training import TrainOptions, train_model
from engine.weights import load_model


def _batch(count: int = 4, size: int = 8):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(count, size, size, 3)).astype(np.float32)
    masks = np.ones((count, size, size, 1), np.float32)
    rates = np.full((count, 1, 1, 1), 0.6, np.float32)
    hints = np.zeros((count, 1, 1, 4), np.float32)
    hints[: count // 2, 0, 0] = [0.8, -0.4, 0.2, 1.0]  # the second half has no hint
    return images, masks, rates, hints


class _Recorded:
    """A predict function whose output is known in closed form: half the image plus the hint's
    colour (zero without one); it records each call's batch size."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    def __call__(self, images, masks, rates, hints):
        self.batch_sizes.append(len(images))
        return 0.5 * images + hints[..., :3]


def test_guidance_pushes_through_the_hinted_prediction_in_one_call():
    images, masks, rates, hints = _batch()
    predict = _Recorded()
    guided = guided_prediction(predict, images, masks, rates, hints, 2.5)
    assert predict.batch_sizes == [8]  # hinted and hint-less rows in one call
    # hint-less 0.5x, hinted 0.5x + c: guided = 0.5x + 2.5c; rows without a hint stay 0.5x.
    np.testing.assert_allclose(guided, 0.5 * images + 2.5 * hints[..., :3], atol=1e-6)
    np.testing.assert_array_equal(guided[2:], 0.5 * images[2:])


def test_no_guidance_or_no_hint_is_the_plain_prediction_in_a_single_batch():
    images, masks, rates, hints = _batch()
    predict = _Recorded()
    plain = guided_prediction(predict, images, masks, rates, hints, 1.0)
    np.testing.assert_array_equal(plain, predict(images, masks, rates, hints))
    guided_without_hints = guided_prediction(
        predict, images, masks, rates, np.zeros_like(hints), 3.0
    )
    np.testing.assert_array_equal(guided_without_hints, 0.5 * images)
    assert predict.batch_sizes == [4, 4, 4]


def test_a_guided_engine_combines_its_networks_predictions(hinted_engine, circle_sketch):
    def patches(engine, **options):
        request = GenerateRequest(sketch=circle_sketch, count=2, upscale=False, **options)
        return [variant.patch for variant in engine.generate(request).variants]

    guided_engine = hinted_engine.sampled_with(
        dataclasses.replace(hinted_engine.config.sampling, colour_guidance=2.0)
    )
    assert not np.array_equal(patches(guided_engine)[0], patches(hinted_engine)[0])
    # Sampling at guidance 1 is what the engine did before the setting existed.
    unguided = hinted_engine.sampled_with(
        dataclasses.replace(hinted_engine.config.sampling, colour_guidance=1.0)
    )
    np.testing.assert_array_equal(patches(unguided)[0], patches(hinted_engine)[0])


def test_a_plain_model_ignores_guidance(tiny_engine, circle_sketch):
    guided = tiny_engine.sampled_with(SamplingConfig(colour_guidance=3.0))
    request = GenerateRequest(sketch=circle_sketch, count=1, upscale=False, colour="#ff0000")
    np.testing.assert_array_equal(
        guided.generate(request).variants[0].patch,
        tiny_engine.sampled_with(SamplingConfig()).generate(request).variants[0].patch,
    )


def _distilling(hinted_config, guidance: float = 2.0, steps: int = 2) -> ModelConfig:
    train_config = dataclasses.replace(
        hinted_config.train, steps=steps, distilled_guidance=guidance
    )
    return dataclasses.replace(hinted_config, train=train_config)


def _data(size: int):
    drawings, sketches = make_eyes(6, TRAIN_SEED, size)
    return prepare_training_set(drawings, sketches)


def test_distillation_targets_are_the_teachers_guided_predictions(
    hinted_config, hinted_model_dir, tmp_path
):
    config = _distilling(hinted_config, guidance=2.0)
    # Half the examples without a hint, so that the batch holds both kinds.
    config = dataclasses.replace(
        config,
        train=dataclasses.replace(config.train, batch_size=8),
        colour=dataclasses.replace(config.colour, hint_dropout=0.5),
    )
    teacher, _ = load_model(hinted_model_dir)
    distiller = GuidanceDistiller(config, _data(32), tmp_path, teacher)
    inputs, (targets, _) = distiller.make_batch(np.random.default_rng([0, 0]))
    noisy, masks, rates, hints = inputs

    def predict(*arrays):
        return denoise(teacher, *arrays).numpy()

    hinted = predict(noisy, masks, rates, hints)
    hintless = predict(noisy, masks, rates, np.zeros_like(hints))
    expected = np.where(masks > 0, hintless + 2.0 * (hinted - hintless), WHITE)
    # The random tiny teacher predicts values near 100: compare relative to their size.
    np.testing.assert_allclose(targets, expected, rtol=1e-3, atol=1e-4)
    # Rows without a hint learn the teacher's plain prediction (the formula gives it there).
    assert 0 < hints[:, 0, 0, 3].sum() < len(hints)


def test_distilling_writes_a_model_that_samples_in_one_call_a_step(
    hinted_config, hinted_model_dir, tmp_path
):
    config = _distilling(hinted_config)
    trainer = train(config, _data(32), tmp_path, from_dir=hinted_model_dir, report=lambda t: None)
    assert isinstance(trainer, GuidanceDistiller) and trainer.step == 2
    _, saved = load_model(tmp_path)
    assert saved.train.distilled_guidance == 2.0 and saved.sampling.colour_guidance == 1.0


def test_distilling_needs_a_hinted_model_to_learn_from(
    hinted_config, tiny_model_dir, tiny_config, tmp_path
):
    with pytest.raises(EngineError, match="needs the model to learn it from"):
        train(_distilling(hinted_config), _data(32), tmp_path / "a", report=lambda t: None)
    plain = _distilling(tiny_config)
    with pytest.raises(EngineError, match="takes no colour hint"):
        train(plain, _data(32), tmp_path / "b", from_dir=tiny_model_dir, report=lambda t: None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--distil-guidance", "1.5"], "--distil-guidance needs --from"),
        (["--distil-guidance", "9", "--from", "x"], "--distil-guidance must be 1 to 4, got 9.0"),
    ],
)
def test_bad_distillation_options_are_one_line(capsys, tmp_path, extra, message):
    code = main(["train", "--procedural", "4", "--out", str(tmp_path / "m"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err


def test_fine_tuning_a_distilled_model_on_drawings_does_not_distil_again(
    hinted_config, hinted_model_dir, tmp_path
):
    distilled = tmp_path / "distilled"
    train(
        _distilling(hinted_config, steps=1),
        _data(32),
        distilled,
        from_dir=hinted_model_dir,
        report=lambda t: None,
    )
    options = TrainOptions(
        data_dir=None,
        out=tmp_path / "taught",
        from_dir=distilled,
        stage="diffusion",
        steps=1,
        procedural=4,
    )
    train_model(options)
    _, taught = load_model(tmp_path / "taught")
    assert taught.train.distilled_guidance == 1.0 and taught.network.colour_hint
