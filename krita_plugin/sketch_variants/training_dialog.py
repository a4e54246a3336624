"""The "Train on my drawings…" dialog: source, name, length, progress with ETA, previews, Cancel."""

from __future__ import annotations

from .controller import Controller
from .pictures import clear_layout, picture_label
from .qt import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from .training_runner import LENGTH_LABELS, SOURCES

PREVIEW_SIZE = 64


class TrainingDialog(QDialog):
    """Shows the controller's training and drives it; closing it leaves the training running."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train on my drawings")
        self.controller = controller
        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.source.setToolTip("Finished drawings: the selected layers, every layer, or a folder")
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("folder of PNG/JPEG drawings")
        self.browse = QPushButton("Browse…")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. my flowers")
        self.name.setMaxLength(48)
        self.length = QComboBox()
        for key, label in LENGTH_LABELS.items():
            self.length.addItem(label, key)
        form = QFormLayout()
        form.addRow("Drawings from", self.source)
        form.addRow("Folder", folder_row)
        form.addRow("Model name", self.name)
        form.addRow("Length", self.length)

        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel training")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.previews = QHBoxLayout()

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(self.previews)

        self.browse.clicked.connect(self._browse)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(controller.cancel_training)
        self.source.currentTextChanged.connect(self.refresh)
        controller.training.changed.connect(self.refresh)
        self._shown: tuple[bytes, ...] = ()
        self.refresh()

    def start(self) -> None:
        """Start training with what the dialog shows."""
        self.controller.train(
            self.source.currentText(),
            self.name.text(),
            self.length.currentData(),
            self.folder.text().strip(),
        )

    def refresh(self) -> None:
        """Show the training's state."""
        state = self.controller.training.state
        for widget in (self.source, self.name, self.length, self.start_button):
            widget.setEnabled(not state.running)
        from_folder = self.source.currentText() == "folder"
        self.folder.setEnabled(from_folder and not state.running)
        self.browse.setEnabled(from_folder and not state.running)
        self.cancel_button.setEnabled(state.running)
        self.progress.setRange(0, max(state.total, 1))
        self.progress.setValue(min(state.step, max(state.total, 1)))
        if not state.running:
            self.progress.setFormat("idle")
        elif state.connecting:
            self.progress.setFormat("waiting for the engine…")
        elif state.paused:
            self.progress.setFormat("step %v of %m: paused while variants are made")
        elif state.eta_s is not None:
            self.progress.setFormat(f"step %v of %m, about {_minutes(state.eta_s)} left")
        else:
            self.progress.setFormat("starting…")
        self.message.setText(state.message)
        if state.previews != self._shown:
            self._show_previews(state.previews)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of finished drawings")
        if folder:
            self.folder.setText(folder)

    def _show_previews(self, pngs: tuple[bytes, ...]) -> None:
        self._shown = pngs
        clear_layout(self.previews)
        tip = "what the model draws now for one of your drawings' sketches"
        for png in pngs:
            self.previews.addWidget(picture_label(png, PREVIEW_SIZE, tip))


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
