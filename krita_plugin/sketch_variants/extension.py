"""The only other module that imports krita: registers the actions, the docker and shutdown."""

from __future__ import annotations

from typing import Any

from krita import DockWidget, DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita

from .actions import ACTIONS
from .adapter import KritaHost
from .controller import Controller
from .panel import Panel

DOCKER_ID = "sketch_variants_docker"


class SketchVariantsExtension(Extension):
    """Creates the actions in every window; owns the one controller the docker shares."""

    def __init__(self, parent: object, controller: Controller) -> None:
        super().__init__(parent)
        self.controller = controller

    def setup(self) -> None:
        """Stop the engine when Krita quits (unless the settings keep it)."""
        Krita.instance().notifier().applicationClosing.connect(self.controller.shutdown)

    def createActions(self, window: Any) -> None:  # noqa: N802 - Krita's API name
        """Add the actions to Tools > Scripts; shortcuts come from sketch_variants.action."""
        for action_id, text, function in ACTIONS:
            action = window.createAction(action_id, text, "tools/scripts")
            action.triggered.connect(lambda _checked=False, f=function: f(self.controller))


class SketchVariantsDocker(DockWidget):
    """The "Sketch Variants" docker: a thin Krita frame around the Panel."""

    controller: Controller | None = None  # set by register() before Krita creates dockers

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Sketch Variants")
        if self.controller is None:
            raise RuntimeError("register() sets the controller before Krita makes dockers")
        self.panel = Panel(self.controller)
        self.setWidget(self.panel)
        self.controller.check_engine()

    def canvasChanged(self, canvas: object) -> None:  # noqa: N802 - Krita's API name
        """Required by DockWidget; results follow their job's document, not the canvas."""


def register() -> Controller:
    """Create the controller and register the extension and the docker with Krita."""
    app = Krita.instance()
    controller = Controller(KritaHost())
    SketchVariantsDocker.controller = controller
    app.addExtension(SketchVariantsExtension(app, controller))
    app.addDockWidgetFactory(
        DockWidgetFactory(
            DOCKER_ID, DockWidgetFactoryBase.DockPosition.DockRight, SketchVariantsDocker
        )
    )
    return controller
