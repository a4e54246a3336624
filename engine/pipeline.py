"""The engine: holds one model and turns a sketch into variants (glue, with the loop visible)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import tensorflow as tf

from engine.config import PAPER_SAMPLING, ModelConfig, SamplingConfig
from engine.diffusion.colour import hint_input, palette_colour, parse_colour
from engine.diffusion.guidance import PredictFn, guided_prediction
from engine.diffusion.masks import dilate
from engine.diffusion.method import keep_background, noise_at, sketch_under_noise
from engine.diffusion.noise import constant_noise, random_noise
from engine.diffusion.sampler import sample
from engine.diffusion.schedule import sampling_times
from engine.errors import Cancelled, EngineError
from engine.fills import smooth_fills
from engine.framing import (
    Frame,
    crop_on_white,
    crop_to_model,
    frame_sketch,
    model_ink,
    to_rgba_patch,
)
from engine.model import denoise, takes_hint
from engine.paths import DEFAULT_MODEL_DIR
from engine.request import GenerateRequest, GenerateResult, Variant
from engine.upscaler.network import sketch_darkness, upscale
from engine.upscaler.sizing import upscaled_side
from engine.weights import has_upscaler, load_model, load_upscaler


def default_precision() -> str:
    """bfloat16 where the CPU multiplies it natively (AVX512-BF16 or AMX), else float32.

    `python -m engine bench` measured bfloat16 at 0.65 of float32's latency on such a CPU, with
    the evaluation's figures holding (weights/README.md); elsewhere bfloat16 is emulated and slow.
    """
    if tf.config.list_physical_devices("GPU"):
        return "float32"
    try:
        cpu = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    return "bfloat16" if ("avx512_bf16" in cpu or "amx_bf16" in cpu) else "float32"


def device_name() -> str:
    """ "CPU", or the name of the GPU TensorFlow will run the model on."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return str(details.get("device_name", gpus[0].name))


# Request fields each request brings into a stacked batch as its own rows; every other field
# (steps, and whatever else the sampler call reads) must be equal for requests to share a stack.
PER_REQUEST_FIELDS = frozenset(
    {"sketch", "mode", "count", "radius", "strength", "seed", "upscale", "colour"}
)


@dataclass(frozen=True)
class Prepared:
    """One request after steps 1-3: what the sampler needs of it, and what finishing needs."""

    request: GenerateRequest
    frame: Frame  # where the model's square lies on the sketch
    region: np.ndarray  # (1, S, S, 1) where the model may draw
    seeds: list[int]  # one per variant
    sampling: SamplingConfig  # how it is sampled (Engine.sampling_for)
    times: np.ndarray  # the sampling times, from the request's steps and strength
    start: np.ndarray  # (N, S, S, 3) float32 starting images
    masks: np.ndarray  # (N, S, S, 1) float32, the region per variant
    hints: np.ndarray  # (N, 1, 1, 4) colour hints

    @property
    def stack_key(self) -> tuple:
        """Requests with equal keys can be denoised stacked, one network call a step."""
        shared = tuple(
            getattr(self.request, f.name)
            for f in dataclasses.fields(self.request)
            if f.name not in PER_REQUEST_FIELDS
        )
        return (self.sampling, self.times.tobytes(), *shared)


def compiled_denoiser(network) -> PredictFn:
    """The network's denoise() on NumPy arrays, traced once per batch shape (reduce_retracing
    keeps varying counts cheap): how generation, and the teacher of guidance distillation, call
    a network step after step."""
    traced = tf.function(
        lambda images, masks, noise_rates, hints: denoise(
            network, images, masks, noise_rates, hints
        ),
        reduce_retracing=True,
    )

    def predict(images, masks, noise_rates, hints) -> np.ndarray:
        return traced(images.astype(np.float32), masks, noise_rates, hints).numpy()

    return predict


class Engine:
    """A loaded model and the one way to generate variants with it."""

    def __init__(
        self, network, config: ModelConfig, name: str, precision: str, upscaler=None
    ) -> None:
        self.network = network
        # Stage 2 as (network, UpscalerConfig), or None for a model folder without one.
        self.upscaler = upscaler
        self.precision = precision
        self.config = config
        self.name = name
        self.size = config.network.image_size
        self.constant = constant_noise(config.noise, self.size)
        self._device = device_name()
        self._predict = compiled_denoiser(network)
        self._upscale = tf.function(
            lambda images, darkness: upscale(self.upscaler[0], images, darkness),
            reduce_retracing=True,
        )

    @classmethod
    def load(cls, model_dir: Path | None = None, precision: str | None = None) -> Engine:
        """Load a model folder (the shipped weights when None); EngineError if it is unusable.

        precision: "float32" or "bfloat16"; None picks default_precision().
        """
        model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        precision = precision or default_precision()
        network, config = load_model(model_dir, precision)
        upscaler = load_upscaler(model_dir, precision) if has_upscaler(model_dir) else None
        return cls(network, config, name=model_dir.name, precision=precision, upscaler=upscaler)

    def sampled_with(self, sampling: SamplingConfig) -> Engine:
        """The same networks, sampled another way (e.g. the 16-step path beside a few-step one)."""
        config = dataclasses.replace(self.config, sampling=sampling)
        return Engine(self.network, config, self.name, self.precision, self.upscaler)

    @property
    def info(self) -> dict:
        """Name, image size, parameter count and device, for health checks and benchmarks."""
        return {
            "name": self.name,
            "image_size": self.size,
            "parameters": int(self.network.count_params()),
            "device": self._device,
            "precision": self.precision,
            "upscaler": self.upscaler is not None,
            "colour_hint": takes_hint(self.network),
            "solver": self.config.sampling.solver,
            "steps": self.config.sampling.steps,
        }

    def hints(self, request: GenerateRequest, seeds: list[int]) -> np.ndarray:
        """Each variant's colour hint, (N, 1, 1, 4): the request's colour, else a palette colour
        drawn by the variant's seed (zeros, no hint, for an empty palette)."""
        if request.colour is not None:
            colours = [parse_colour(request.colour)] * len(seeds)
        else:
            colours = [palette_colour(self.config.colour.palette, seed) for seed in seeds]
        return np.stack([hint_input(colour) for colour in colours])

    def upscale_images(self, images: np.ndarray, sketch_on_white: np.ndarray) -> np.ndarray:
        """Stage 2 alone: (N, S, S, 3) images in [-1, 1] to the sketch's side, (N, T, T, 3).

        sketch_on_white: (T, T, 3) uint8, the sketch flattened on white at the output side.
        """
        side = sketch_on_white.shape[0]
        darkness = sketch_darkness(sketch_on_white)[None, :, :, None].astype(np.float32) / 255.0
        darkness = np.broadcast_to(darkness, (len(images), side, side, 1))
        return self._upscale(np.asarray(images, np.float32), darkness).numpy()

    def generate(
        self,
        request: GenerateRequest,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerateResult:
        """Variants of the request's sketch, each aligned with it; raises Cancelled if cancelled."""
        prepared = self.prepare(request)
        images = self.denoise([prepared], on_progress, should_cancel)[0]
        return self.finish(prepared, images, should_cancel)

    def generate_batch(
        self,
        requests: Sequence[GenerateRequest],
        on_progress: Callable[[int, int, int], None] | None = None,
        should_cancel: Callable[[int], bool] | None = None,
    ) -> list[GenerateResult | EngineError | Cancelled]:
        """Several requests' variants, those sharing a schedule stacked into one network call a
        step (a studio's replica batching its artists' jobs); each request gets what `generate`
        would give it, or the EngineError or Cancelled it alone raised.

        on_progress(index, step, total) reports request `index`'s steps; should_cancel(index)
        asks whether request `index` is cancelled: a stack stops once all of its requests are.
        """
        outcomes: list[GenerateResult | EngineError | Cancelled] = [Cancelled()] * len(requests)
        stacks: dict[tuple, list[tuple[int, Prepared]]] = {}
        for index, request in enumerate(requests):
            try:
                prepared = self.prepare(request)
            except EngineError as error:  # one artist's empty sketch fails that job only
                outcomes[index] = error
                continue
            stacks.setdefault(prepared.stack_key, []).append((index, prepared))
        for members in stacks.values():

            def stack_progress(step: int, total: int, members=members) -> None:
                for index, _ in members:
                    if on_progress is not None:
                        on_progress(index, step, total)

            def stack_cancelled(members=members) -> bool:
                return should_cancel is not None and all(should_cancel(i) for i, _ in members)

            try:
                images = self.denoise([p for _, p in members], stack_progress, stack_cancelled)
            except Cancelled:
                continue
            for (index, prepared), own in zip(members, images, strict=True):
                if should_cancel is not None and should_cancel(index):
                    continue  # its rows ran for its stack-mates; it gets no result
                own_cancel = partial(should_cancel, index) if should_cancel is not None else None
                try:
                    outcomes[index] = self.finish(prepared, own, own_cancel)
                except Cancelled as stopped:
                    outcomes[index] = stopped
        return outcomes

    def sampling_for(self, request: GenerateRequest) -> SamplingConfig:
        """How a request is sampled: the model's own path (its config's solver, steps and time
        spacing) when it names no steps; else the paper's, DDIM at evenly spaced times."""
        if request.steps is None:
            return self.config.sampling
        return dataclasses.replace(PAPER_SAMPLING, steps=request.steps)

    def steps(self, request: GenerateRequest) -> int:
        """The denoising steps a request runs."""
        return self.sampling_for(request).steps

    def prepare(self, request: GenerateRequest) -> Prepared:
        """Steps 1-3 for one request: its framing, region and starting noise (EngineError if its
        sketch is empty)."""
        # 1. Frame the sketch's ink and bring it to the model's size (EngineError if empty).
        frame = frame_sketch(request.sketch)
        sketch = crop_to_model(request.sketch, frame, self.size) * 2.0 - 1.0  # (S, S, 3)
        # 2. Where the model may draw: everything, or (mask mode) the ink dilated by the radius.
        if request.mode == "mask":
            region = dilate(model_ink((sketch + 1.0) / 2.0), request.radius).astype(np.float32)
        else:
            region = np.ones((self.size, self.size), np.float32)
        region = region[None, :, :, None]  # (1, S, S, 1)
        # 3. Starting point: random noise per variant (seed + i), the sketch under it from
        #    `strength`, and the constant noise outside the region.
        seeds = [request.seed + i for i in range(request.count)]
        noises = np.stack([random_noise(seed, self.size) for seed in seeds])  # (N, S, S, 3)
        sampling = self.sampling_for(request)
        times = sampling_times(sampling.steps, request.effective_strength, sampling.time_power)
        if request.mode == "noise":
            start = noises
        else:
            guide = sketch_under_noise(sketch, request.mode, request.effective_strength)
            start = noise_at(guide[None], noises, times[0], self.config.schedule)
        start = keep_background(start, region, self.constant).astype(np.float32)
        masks = np.broadcast_to(region, (request.count, self.size, self.size, 1)).astype(np.float32)
        hints = self.hints(request, seeds)
        return Prepared(request, frame, region, seeds, sampling, times, start, masks, hints)

    def denoise(
        self,
        stack: Sequence[Prepared],
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> list[np.ndarray]:
        """Step 4 for requests sharing a stack_key, their variants stacked into one network call
        a step; each request's (N, S, S, 3) images, in [-1, 1] give or take an overshoot."""
        images = self.sample_images(
            np.concatenate([p.start for p in stack]),
            np.concatenate([p.masks for p in stack]),  # (sum N, S, S, 1)
            np.concatenate([p.hints for p in stack]),
            stack[0].times,
            stack[0].sampling,
            on_progress,
            should_cancel,
            # Not a per-request field, so requests share a stack only when they agree on it.
            clean_fills=stack[0].request.clean_fills,
        )
        return np.split(images, np.cumsum([len(p.seeds) for p in stack])[:-1])

    def sample_images(
        self,
        start: np.ndarray,
        masks: np.ndarray,
        hints: np.ndarray,
        times: np.ndarray,
        sampling: SamplingConfig,
        on_progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
        clean_fills: bool = True,
    ) -> np.ndarray:
        """Step 4 on arrays: (N, S, S, 3) starting images through the sampling's solver at
        `times`, each in its mask (N, S, S, 1) with the constant noise outside, in its colour
        hint (guided by the sampling's colour_guidance), then, with clean_fills, their fills
        cleaned as the model's `fills` section says (engine.fills)."""
        # 4. Denoise through the levels, keeping the constant noise outside each variant's region,
        #    each variant in its colour (models with the colour hint).
        guidance = 1.0 if not takes_hint(self.network) else sampling.colour_guidance

        def denoise_fn(images: np.ndarray, noise_rate: float) -> np.ndarray:
            rates_in = np.full((len(images), 1, 1, 1), noise_rate, np.float32)
            return guided_prediction(self._predict, images, masks, rates_in, hints, guidance)

        images = sample(
            denoise_fn,
            start,
            times,
            self.config.schedule,
            masks,
            self.constant,
            solver=sampling.solver,
            on_step=on_progress,
            should_cancel=should_cancel,
        )
        # Whatever path sampled them, the model's fills are cleaned the same way (engine.fills),
        # so that the upsampler learns on re-drawings finished as the engine finishes variants.
        fills = self.config.fills
        passes = fills.smoothing_passes if clean_fills else 0
        return smooth_fills(images, masks, passes, fills.colour_sigma)

    def finish(
        self,
        prepared: Prepared,
        images: np.ndarray,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerateResult:
        """Steps 5-6 for one request: its denoised images to variants at the sketch's pixels."""
        request, frame, region, seeds = (
            prepared.request,
            prepared.frame,
            prepared.region,
            prepared.seeds,
        )
        # 5. Stage 2: each variant to the sketch's resolution, its lines placed by the sketch's own.
        side = None
        if request.upscale and self.upscaler is not None:
            side = upscaled_side(frame.side, self.size, self.upscaler[1])
        if side is not None:
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            guide = crop_on_white(request.sketch, frame, side)
            if request.mode == "noise":
                # The baseline that ignores the sketch ignores it in both stages: stage 2 would
                # otherwise draw the sketch's lines into a variant that has none of them.
                guide = np.full_like(guide, 255)
            # The stage learnt on images in [-1, 1]; stage 1 may overshoot a little.
            images = self.upscale_images(np.clip(images, -1.0, 1.0), guide)
        # 6. Back to the sketch's pixels: white becomes transparent, nothing outside the region.
        rgb = (np.clip(images, -1.0, 1.0) + 1.0) / 2.0
        variants = [
            Variant(
                seed=seed,
                patch=to_rgba_patch(rgb[i], region[0, :, :, 0], frame),
                left=frame.left,
                top=frame.top,
                canvas_width=frame.canvas_width,
                canvas_height=frame.canvas_height,
                side=frame.side,
            )
            for i, seed in enumerate(seeds)
        ]
        return GenerateResult(variants)
