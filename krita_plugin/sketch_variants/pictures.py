"""Small pictures in the docker and the training dialog: PNG bytes shown in labels of a layout."""

from __future__ import annotations

from .qt import QByteArray, QLabel, QPixmap, Qt, QtWidgets


def scaled_pixmap(png: bytes, side: int) -> QPixmap:
    """A PNG shrunk to fit a side x side square (empty for no PNG)."""
    pixmap = QPixmap()
    if png:
        pixmap.loadFromData(QByteArray(png), "PNG")
        pixmap = pixmap.scaled(
            side,
            side,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return pixmap


def picture_label(png: bytes, side: int, tip: str) -> QLabel:
    """A label showing a PNG within side x side, with a tooltip."""
    label = QLabel()
    label.setToolTip(tip)
    label.setPixmap(scaled_pixmap(png, side))
    return label


def clear_layout(layout: QtWidgets.QLayout) -> None:
    """Remove and delete every widget of a layout."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
