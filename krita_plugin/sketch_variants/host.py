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

    def insert_variants(
        self, target: Target, sketch: Sketch, variants: list[tuple[int, bytes]], radius: int
    ) -> bool:
        """Put (seed, BGRA pixels) variants above the target layer; False if it is gone."""
        ...

    def read_setting(self, key: str, default: str) -> str:
        """One persisted setting."""
        ...

    def write_setting(self, key: str, value: str) -> None:
        """Persist one setting."""
        ...
