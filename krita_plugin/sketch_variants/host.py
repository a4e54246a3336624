"""What the controller needs from Krita, as a protocol the adapter (and test fakes) implement."""

from __future__ import annotations

from typing import Protocol

from .values import Sketch, Target


class Host(Protocol):
    """Reads sketches from and writes variants into documents; owns Krita's settings."""

    def active_sketch(self) -> tuple[list[tuple[Target, Sketch]], list[str]]:
        """The active layer's sketch, or the problems that prevent reading it."""
        ...

    def selected_sketches(self) -> tuple[list[tuple[Target, Sketch]], list[str]]:
        """The sketches of every selected layer, and a problem message per unusable layer."""
        ...

    def document_sketches(self) -> tuple[list[tuple[Target, Sketch]], list[str]]:
        """The pixels of every paint layer of the active document (drawings to train on)."""
        ...

    def insert_variants(
        self, target: Target, sketch: Sketch, variants: list[tuple[int, bytes]], radius: int
    ) -> bool:
        """Put (seed, BGRA pixels) variants above the target layer; False if it is gone."""
        ...

    def layer_fingerprint(self, target: Target) -> int | None:
        """A cheap number that changes when the target layer's pixels do; None if it is gone."""
        ...

    def read_layer(self, target: Target) -> Sketch | str:
        """The target layer's sketch now, or why it cannot be used."""
        ...

    def show_live(self, target: Target, sketch: Sketch, bgra: bytes, live_id: str) -> str:
        """Put pixels in the one live layer above the target (made if `live_id` is not found).

        Returns the live layer's id, "" when the target is gone.
        """
        ...

    def remove_live(self, target: Target, live_id: str) -> None:
        """Remove the live layer from the target's document, if both are still there."""
        ...

    def read_setting(self, key: str, default: str) -> str:
        """One persisted setting."""
        ...

    def write_setting(self, key: str, value: str) -> None:
        """Persist one setting."""
        ...
