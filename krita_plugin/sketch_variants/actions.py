"""The plugin's actions: tiny functions calling the same controller methods as the docker."""

from __future__ import annotations

from .controller import Controller

GENERATE = "sketch_variants_generate"
FILL_SELECTED = "sketch_variants_fill_selected"
LIVE = "sketch_variants_live"
LIVE_KEEP = "sketch_variants_live_keep"


def generate(controller: Controller) -> None:
    """Generate variants of the active layer (Tools > Scripts > Generate variants)."""
    controller.generate_active()


def fill_selected(controller: Controller) -> None:
    """Generate variants for every selected layer (Tools > Scripts > Fill selected layers)."""
    controller.fill_selected()


def live(controller: Controller) -> None:
    """Live mode on for the active layer, or off (Tools > Scripts > Live variant on/off)."""
    controller.toggle_live()


def live_keep(controller: Controller) -> None:
    """Keep the live result as a variant layer (Tools > Scripts > Keep the live variant)."""
    controller.keep_live()


# Action id, menu text, function: the extension creates one Krita action per row.
ACTIONS = (
    (GENERATE, "Generate variants", generate),
    (FILL_SELECTED, "Fill selected layers with variants", fill_selected),
    (LIVE, "Live variant on/off", live),
    (LIVE_KEEP, "Keep the live variant", live_keep),
)
