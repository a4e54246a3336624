"""The docker's colour row: each variant in its own colour of the model's style, or one colour."""

from __future__ import annotations

from .qt import QCheckBox, QColor, QColorDialog, QHBoxLayout, QPushButton, QWidget, Signal
from .values import checked_colour

DEFAULT_PICK = "#3a7bd5"  # the colour the button offers before the artist picks one


class ColourPicker(QWidget):
    """Off: every variant draws its main colour from the model's palette (by seed); on: all
    variants paint in the colour on the button (models with the colour hint)."""

    changed = Signal()  # what current() returns may have changed

    def __init__(self, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.one_colour = QCheckBox("one colour")
        self.one_colour.setToolTip(
            "Off: each variant picks its own colour from the model's style; on: every variant "
            "paints in the colour on the button"
        )
        self.button = QPushButton()
        self.button.setToolTip("The main colour of the variants (an eye's iris, say)")
        self._colour = checked_colour(colour) or DEFAULT_PICK
        self.one_colour.setChecked(bool(checked_colour(colour)))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.one_colour)
        row.addWidget(self.button, 1)
        self.button.clicked.connect(self.choose)
        self.one_colour.toggled.connect(self._toggled)
        self._show()

    def current(self) -> str:
        """ "#rrggbb" when one colour is asked for, else "" (each variant its own)."""
        return self._colour if self.one_colour.isChecked() else ""

    def set_colour(self, colour: str) -> None:
        """Show `colour` (#rrggbb) on the button and ask for it."""
        checked = checked_colour(colour)
        if checked:
            self._colour = checked
            self.one_colour.blockSignals(True)  # one `changed` for both changes
            self.one_colour.setChecked(True)
            self.one_colour.blockSignals(False)
            self._toggled()

    def choose(self) -> None:
        """Let the artist pick the colour in Qt's colour dialog."""
        picked = QColorDialog.getColor(QColor(self._colour), self, "Main colour of the variants")
        if picked.isValid():
            self.set_colour(picked.name())

    def _toggled(self) -> None:
        self._show()
        self.changed.emit()

    def _show(self) -> None:
        self.button.setText(self._colour if self.one_colour.isChecked() else "each its own")
        self.button.setStyleSheet(
            f"background-color: {self._colour};" if self.one_colour.isChecked() else ""
        )
