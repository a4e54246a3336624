"""The docker's widgets: engine status, parameters, Generate/Cancel, progress and thumbnails."""

from __future__ import annotations

from .colour_picker import ColourPicker
from .controller import Controller
from .model_picker import ModelPicker
from .pictures import clear_layout, picture_label, scaled_pixmap
from .qt import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from .settings_dialog import SettingsDialog
from .training_dialog import TrainingDialog
from .values import COUNT_RANGE, MODES, RADIUS_RANGE, SEED_MAX, EngineState, Params

THUMBNAIL_SIZE = 72
LIVE_PREVIEW_SIZE = 160
_STATUS_TEXT = {
    EngineState.CONNECTED: "Engine connected",
    EngineState.STARTING: "Engine starting…",
    EngineState.UNREACHABLE: "Engine not reachable",
    EngineState.NOT_CONNECTED: "Engine not connected yet",
}


class Panel(QWidget):
    """Everything the docker shows; it only reads the controller's state and calls its methods."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        params = controller.settings.params
        status_row = self._status_row()
        form = self._parameter_form(params)
        form.insertRow(0, "Model", self._model_row(params))
        buttons = self._job_buttons()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.thumbnails = QGridLayout()
        live_row = self._live_row()
        self.live_preview = QLabel()
        self.live_preview.setToolTip("The newest live variant")

        layout = QVBoxLayout(self)
        layout.addLayout(status_row)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(live_row)
        layout.addWidget(self.live_preview)
        layout.addLayout(self.thumbnails)
        layout.addStretch(1)

        self._connect_signals()
        self._shown_thumbnails: tuple[bytes, ...] = ()
        self._shown_preview = b""
        self._training_dialog: TrainingDialog | None = None
        self.refresh()

    def _status_row(self) -> QHBoxLayout:
        """Engine status, Start and Settings…"""
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Connect to the engine, starting a local one if needed")
        self.settings_button = QPushButton("Settings…")
        self.settings_button.setToolTip("Engine address and token, engine command, keep running")
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.start_button)
        row.addWidget(self.settings_button)
        return row

    def _parameter_form(self, params: Params) -> QFormLayout:
        """Variants, radius, mode, strength, seed, upscale, clean fills and colour, set to
        `params`."""
        self.count = _spin(COUNT_RANGE, params.count, "How many variants to make per sketch")
        self.radius = _spin(RADIUS_RANGE, params.radius, "Mask radius: larger changes more")
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setCurrentText(params.mode)
        self.mode.setToolTip("mask: the paper's method; sdedit and noise: baselines")
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.05, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(params.strength)
        self.strength.setToolTip("sdedit only: how far from the sketch the variants may go")
        self.seed = _spin((0, SEED_MAX), params.seed, "Seed of the first variant")
        self.new_seed = QCheckBox("new seed each time")
        self.new_seed.setChecked(params.new_seed)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.new_seed)
        self.upscale = QCheckBox("Upscale (crisp, slower)")
        self.upscale.setChecked(params.upscale)
        self.upscale.setToolTip(
            "Redraw each variant at the layer's resolution; off: a plain blow-up (faster)"
        )
        self.clean_fills = QCheckBox("Clean fills")
        self.clean_fills.setChecked(params.clean_fills)
        self.clean_fills.setToolTip(
            "Even out blotchy fills (cel shading); off: keep the texture of a textured style"
        )
        self.colour = ColourPicker(params.colour)
        form = QFormLayout()
        form.addRow("Variants", self.count)
        form.addRow("Radius", self.radius)
        form.addRow("Mode", self.mode)
        form.addRow("Strength", self.strength)
        form.addRow("Seed", seed_row)
        form.addRow("", self.upscale)
        form.addRow("", self.clean_fills)
        form.addRow("Colour", self.colour)
        return form

    def _model_row(self, params: Params) -> QHBoxLayout:
        """The model picker and "Train on my drawings…"."""
        self.model = ModelPicker(self.controller.client, params.model)
        self.train_button = QPushButton("Train on my drawings…")
        self.train_button.setToolTip("Teach the engine your finished drawings: a model of your own")
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.train_button)
        return row

    def _job_buttons(self) -> QHBoxLayout:
        """Generate, Fill selected and Cancel."""
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Variants of the active layer (Ctrl+Alt+Shift+G)")
        self.fill_button = QPushButton("Fill selected")
        self.fill_button.setToolTip("Variants for every selected layer (Ctrl+Alt+Shift+F)")
        self.cancel_button = QPushButton("Cancel")
        row = QHBoxLayout()
        for button in (self.generate_button, self.fill_button, self.cancel_button):
            row.addWidget(button)
        return row

    def _live_row(self) -> QHBoxLayout:
        """Live, New seed and Keep."""
        self.live = QCheckBox("Live")
        self.live.setToolTip(
            "A quick variant of the active layer follows your strokes, in one live layer above "
            "it (Ctrl+Alt+Shift+L)"
        )
        self.live_seed_button = QPushButton("New seed")
        self.live_seed_button.setToolTip("Another live variant of the same sketch")
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip(
            "The live variant at full quality, same seed, as a variant layer (Ctrl+Alt+Shift+K)"
        )
        row = QHBoxLayout()
        for widget in (self.live, self.live_seed_button, self.keep_button):
            row.addWidget(widget)
        return row

    def _connect_signals(self) -> None:
        """Buttons call the controller; parameter changes are remembered; state is shown."""
        controller = self.controller
        self.start_button.clicked.connect(controller.start_engine)
        self.settings_button.clicked.connect(self._settings_clicked)
        self.generate_button.clicked.connect(controller.generate_active)
        self.fill_button.clicked.connect(controller.fill_selected)
        self.cancel_button.clicked.connect(controller.cancel)
        for spin in (self.count, self.radius, self.seed):
            spin.valueChanged.connect(self._params_changed)
        self.strength.valueChanged.connect(self._params_changed)
        self.mode.currentTextChanged.connect(self._params_changed)
        self.new_seed.toggled.connect(self._params_changed)
        self.upscale.toggled.connect(self._params_changed)
        self.clean_fills.toggled.connect(self._params_changed)
        self.colour.changed.connect(self._params_changed)
        self.model.currentIndexChanged.connect(self._params_changed)
        self.train_button.clicked.connect(self._train_clicked)
        controller.training.model_ready.connect(lambda _name: self.model.refresh())
        self.model.on_error = self.message.setText
        self.live.toggled.connect(controller.set_live)
        self.live_seed_button.clicked.connect(controller.new_live_seed)
        self.keep_button.clicked.connect(controller.keep_live)
        controller.changed.connect(self.refresh)

    def params(self) -> Params:
        """The parameters as currently set in the widgets."""
        return Params(
            count=self.count.value(),
            radius=self.radius.value(),
            mode=self.mode.currentText(),
            strength=round(self.strength.value(), 2),
            seed=self.seed.value(),
            new_seed=self.new_seed.isChecked(),
            fast_sampling=self.controller.settings.params.fast_sampling,
            steps=self.controller.settings.params.steps,
            upscale=self.upscale.isChecked(),
            clean_fills=self.clean_fills.isChecked(),
            live_steps=self.controller.settings.params.live_steps,
            model=self.model.current(),
            colour=self.colour.current(),
        )

    def refresh(self) -> None:
        """Show the controller's current state."""
        state = self.controller.state
        if state.status is EngineState.CONNECTED and not self.model.loaded:
            self.model.loaded = True  # one request; refresh() fills the list when it answers
            self.model.refresh()
        text = _STATUS_TEXT[state.status]
        self.status.setText(f"{text}: {state.reason}" if state.reason else text)
        self.start_button.setEnabled(
            state.status in (EngineState.UNREACHABLE, EngineState.NOT_CONNECTED)
        )
        self.cancel_button.setEnabled(state.busy)
        self.strength.setEnabled(self.mode.currentText() == "sdedit")
        self.seed.setEnabled(not self.new_seed.isChecked())
        self.progress.setRange(0, max(state.total, 1))
        self.progress.setValue(min(state.step, max(state.total, 1)) if state.busy else 0)
        left = f" ({state.jobs_left} more queued)" if state.jobs_left else ""
        self.progress.setFormat(f"step %v of %m{left}" if state.busy else "idle")
        self.message.setText(state.message)
        if state.thumbnails != self._shown_thumbnails:
            self._show_thumbnails(state.thumbnails)
        self.live.blockSignals(True)  # showing the state is not the artist toggling it
        self.live.setChecked(state.live)
        self.live.blockSignals(False)
        self.live_seed_button.setEnabled(state.live)
        self.keep_button.setEnabled(state.live)
        if state.live_preview != self._shown_preview:
            self._shown_preview = state.live_preview
            self.live_preview.setPixmap(scaled_pixmap(state.live_preview, LIVE_PREVIEW_SIZE))

    def edit_settings(self) -> SettingsDialog:
        """Open the engine settings dialog; accepted changes go to the controller."""
        dialog = SettingsDialog(self.controller.settings, self)
        dialog.accepted.connect(lambda: self.controller.update_settings(dialog.result_settings()))
        dialog.open()  # window-modal without a nested event loop
        return dialog

    def open_training(self) -> TrainingDialog:
        """Open the "Train on my drawings" dialog (not modal: Krita stays usable)."""
        if self._training_dialog is None:
            self._training_dialog = TrainingDialog(self.controller, self)
        self._training_dialog.show()
        return self._training_dialog

    # Slots return nothing; the dialogs are returned above for the tests that fill them in.
    def _settings_clicked(self) -> None:
        self.edit_settings()

    def _train_clicked(self) -> None:
        self.open_training()

    def _params_changed(self) -> None:
        self.controller.set_params(self.params())
        self.refresh()

    def _show_thumbnails(self, pngs: tuple[bytes, ...]) -> None:
        self._shown_thumbnails = pngs
        clear_layout(self.thumbnails)
        for index, png in enumerate(pngs):
            label = picture_label(png, THUMBNAIL_SIZE, f"variant {index + 1}")
            self.thumbnails.addWidget(label, index // 4, index % 4)


def _spin(bounds: tuple[int, int], value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(*bounds)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
