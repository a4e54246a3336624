"""A model folder: `model.weights.h5` (EMA network) + `config.json` (config, provenance, sha256)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import ModelConfig
from engine.errors import EngineError
from engine.paths import DEFAULT_MODEL_DIR

if TYPE_CHECKING:  # Keras loads TensorFlow: only the functions that build networks import it
    import keras

    from engine.upscaler.config import UpscalerConfig

WEIGHTS_FILE = "model.weights.h5"
CONFIG_FILE = "config.json"
DEFAULT_MODEL_NAME = "default"
MODEL_FORMAT = "sketch-variants-model/1"
UPSCALER_FORMAT = "sketch-variants-upscaler/1"
# The upsampling stage lives in its own folder inside a model folder, in the same file format.
UPSCALER_DIR = "upscaler"


@dataclass(frozen=True)
class ModelEntry:
    """A model the engine can load, by name."""

    name: str
    path: Path


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(
    network: keras.Model,
    config: Any,
    model_dir: Path,
    provenance: dict[str, Any],
    document_format: str = MODEL_FORMAT,
) -> None:
    """Write the network's weights and a config.json that rebuilds and verifies it.

    config: a ModelConfig, or an UpscalerConfig (with document_format UPSCALER_FORMAT).
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    weights_path = model_dir / WEIGHTS_FILE
    network.save_weights(weights_path)
    document = {
        "format": document_format,
        "config": config.to_dict(),
        "provenance": provenance,
        "sha256": {WEIGHTS_FILE: sha256_of(weights_path)},
    }
    (model_dir / CONFIG_FILE).write_text(json.dumps(document, indent=2) + "\n")


def read_model_document(
    model_dir: Path, parse_config: Callable[[dict], Any] = ModelConfig.from_dict
) -> dict[str, Any]:
    """The parsed config.json of a model folder; EngineError if missing or malformed."""
    config_path = Path(model_dir) / CONFIG_FILE
    if not config_path.is_file():
        raise EngineError(f"no model in {model_dir}: {CONFIG_FILE} is missing")
    try:
        document = json.loads(config_path.read_text())
        parse_config(document["config"])
    except (ValueError, KeyError, TypeError) as error:
        raise EngineError(f"model config {config_path} is malformed ({error})") from None
    return document


def load_model(model_dir: Path, precision: str = "float32") -> tuple[keras.Model, ModelConfig]:
    """Rebuild the network of a model folder and load its verified weights: (network, config)."""
    from engine.model import build_network  # TensorFlow only when a model is really loaded

    return _load(model_dir, ModelConfig.from_dict, lambda c: build_network(c.network, precision))


def has_model(model_dir: Path) -> bool:
    """Whether a folder holds a diffusion model (weights and config)."""
    folder = Path(model_dir)
    return (folder / WEIGHTS_FILE).is_file() and (folder / CONFIG_FILE).is_file()


def has_upscaler(model_dir: Path) -> bool:
    """Whether a model folder carries an upsampling stage."""
    return (Path(model_dir) / UPSCALER_DIR / CONFIG_FILE).is_file()


def load_upscaler(
    model_dir: Path, precision: str = "float32"
) -> tuple[keras.Model, UpscalerConfig]:
    """The upsampling stage of a model folder: (network, UpscalerConfig)."""
    from engine.upscaler.config import UpscalerConfig
    from engine.upscaler.network import build_upscaler

    return _load(
        Path(model_dir) / UPSCALER_DIR,
        UpscalerConfig.from_dict,
        lambda c: build_upscaler(c.network, precision),
    )


def _load(
    folder: Path, parse_config: Callable[[dict], Any], build: Callable[[Any], keras.Model]
) -> tuple[keras.Model, Any]:
    """Rebuild a folder's network and load its weights after checking their sha256."""
    folder = Path(folder)
    document = read_model_document(folder, parse_config)
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.is_file():
        raise EngineError(f"no weights in {folder}: {WEIGHTS_FILE} is missing")
    expected = document.get("sha256", {}).get(WEIGHTS_FILE)
    if expected != sha256_of(weights_path):
        raise EngineError(f"weights file {weights_path} is corrupted (sha256 does not match)")
    config = parse_config(document["config"])
    network = build(config)
    try:
        network.load_weights(weights_path)
    except (OSError, ValueError) as error:
        raise EngineError(
            f"weights file {weights_path} does not fit its config ({error})"
        ) from None
    return network, config


def list_models(models_dir: Path) -> list[ModelEntry]:
    """The shipped default model and every model folder in models_dir."""
    entries = [ModelEntry(DEFAULT_MODEL_NAME, DEFAULT_MODEL_DIR)]
    if models_dir.is_dir():
        for path in sorted(models_dir.iterdir()):
            if (path / CONFIG_FILE).is_file() and path.name != DEFAULT_MODEL_NAME:
                entries.append(ModelEntry(path.name, path))
    return entries
