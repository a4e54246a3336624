"""The docker's model picker: the shipped model and the artist's own, as the engine lists them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .client import EngineClient, Failure
from .qt import QComboBox, QWidget


class ModelPicker(QComboBox):
    """Lists GET /v1/models; each item's data is the model's name, sent with every job."""

    def __init__(self, client: EngineClient, chosen: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.setToolTip("The model that draws the variants: the shipped one or one you trained")
        self._chosen = chosen  # kept until the engine's list arrives
        self.addItem(_label(chosen or "default", shipped=not chosen), chosen)
        self.loaded = False
        self.on_error: Callable[[str], None] = lambda message: None

    def current(self) -> str:
        """The picked model's name ("" before the engine's list arrives: the engine's own)."""
        data = self.currentData()
        return data if isinstance(data, str) else ""

    def refresh(self) -> None:
        """Ask the engine for its models and show them, keeping the current choice if it stays."""
        self.client.get_json("/v1/models", self._show, self._failed)

    def names(self) -> list[str]:
        """The names listed now, in order."""
        return [self.itemData(index) for index in range(self.count())]

    def _show(self, answer: dict[str, Any]) -> None:
        models = [m for m in answer.get("models", []) if isinstance(m, dict) and m.get("name")]
        keep = self.current() or self._chosen
        self.blockSignals(True)  # a refill is not the artist picking another model
        self.clear()
        for model in models:
            self.addItem(_label(model["name"], bool(model.get("shipped"))), model["name"])
        index = self.findData(keep) if keep else 0
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)
        self.loaded = True
        if keep and index < 0:
            self.currentIndexChanged.emit(self.currentIndex())  # the chosen model was deleted

    def _failed(self, failure: Failure) -> None:
        self.on_error(f"Could not list the engine's models: {failure.message}.")


def _label(name: str, shipped: bool) -> str:
    return f"{name} (shipped)" if shipped else name
