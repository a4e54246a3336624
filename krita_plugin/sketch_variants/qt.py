"""The one module naming a Qt binding: PyQt5 (Krita 5) if it loads, else PyQt6 (Krita 6).

Every other module imports Qt from here and is written so that both bindings accept it:
- enums fully scoped (`Qt.AspectRatioMode.KeepAspectRatio`): PyQt6 knows no other spelling;
- `exec()`, never `exec_()`, which PyQt6 dropped (PyQt5 5.15 has both);
- `QImage.sizeInBytes()` (Qt 6 dropped `byteCount()`) and `QFontMetrics.horizontalAdvance()`
  (Qt 6 dropped `width()`): both exist since Qt 5.11, older than any Krita 5;
- `QAction` from here: Qt 6 moved it from QtWidgets to QtGui;
- signals as `Signal` (PyQt's `pyqtSignal`);
- network managers from `network_manager()`, which follow redirects the same way under both;
- image formats from `readable_suffixes()`: which formats load depends on the Qt's plugins.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# Tests only: "pyqt6" skips PyQt5, so the plugin's Qt code can be tested under both bindings on a
# machine that has both. Krita sets nothing here: Krita 6 refuses `import PyQt5` by itself.
BINDING_VARIABLE = "SKETCH_VARIANTS_QT"

if TYPE_CHECKING:
    # The type checker reads the plugin against PyQt5's stubs: the two bindings' classes share
    # their names and the plugin is written to both, which the PyQt6 test run checks.
    from PyQt5 import QtCore, QtGui, QtNetwork, QtWidgets

    QAction = QtWidgets.QAction
else:
    try:
        if os.environ.get(BINDING_VARIABLE, "").lower() == "pyqt6":
            raise ImportError(f"{BINDING_VARIABLE}=pyqt6")
        # Only QtCore decides: once it has loaded, a second Qt in the process would crash
        # Krita, so a later failure must surface rather than fall back.
        from PyQt5 import QtCore
    except ImportError:  # Krita 6 raises ModuleNotFoundError for PyQt5
        from PyQt6 import QtCore, QtGui, QtNetwork, QtWidgets

        QAction = QtGui.QAction  # Qt 6 moved it here
    else:
        from PyQt5 import QtGui, QtNetwork, QtWidgets

        QAction = QtWidgets.QAction

BINDING = "PyQt6" if QtCore.PYQT_VERSION_STR.startswith("6.") else "PyQt5"

# The classes the plugin uses, one name whichever binding provides them.
Qt = QtCore.Qt
Signal = QtCore.pyqtSignal
QBuffer = QtCore.QBuffer
QByteArray = QtCore.QByteArray
QEventLoop = QtCore.QEventLoop
QIODevice = QtCore.QIODevice
QObject = QtCore.QObject
QProcess = QtCore.QProcess
QTimer = QtCore.QTimer
QUrl = QtCore.QUrl
QColor = QtGui.QColor
QImage = QtGui.QImage
QImageReader = QtGui.QImageReader
QPixmap = QtGui.QPixmap
QNetworkAccessManager = QtNetwork.QNetworkAccessManager
QNetworkReply = QtNetwork.QNetworkReply
QNetworkRequest = QtNetwork.QNetworkRequest
QCheckBox = QtWidgets.QCheckBox
QColorDialog = QtWidgets.QColorDialog
QComboBox = QtWidgets.QComboBox
QDialog = QtWidgets.QDialog
QDialogButtonBox = QtWidgets.QDialogButtonBox
QDoubleSpinBox = QtWidgets.QDoubleSpinBox
QFileDialog = QtWidgets.QFileDialog
QFormLayout = QtWidgets.QFormLayout
QGridLayout = QtWidgets.QGridLayout
QHBoxLayout = QtWidgets.QHBoxLayout
QLabel = QtWidgets.QLabel
QLineEdit = QtWidgets.QLineEdit
QProgressBar = QtWidgets.QProgressBar
QPushButton = QtWidgets.QPushButton
QSpinBox = QtWidgets.QSpinBox
QVBoxLayout = QtWidgets.QVBoxLayout
QWidget = QtWidgets.QWidget


def network_manager(parent: QObject | None) -> QNetworkAccessManager:
    """A QNetworkAccessManager that never follows a redirect by itself.

    Qt 5 does not follow redirects, Qt 6 follows most by default: set one policy so the engine's
    token never travels to an address the artist did not enter, and a 3xx is an answer in both.
    """
    manager = QNetworkAccessManager(parent)
    manager.setRedirectPolicy(QNetworkRequest.RedirectPolicy.ManualRedirectPolicy)
    return manager


def readable_suffixes() -> set[str]:
    """File suffixes (".png", ...) of the image formats this Qt can read.

    PNG is built into Qt; JPEG, WebP and the rest are plugins that each Krita build ships or not.
    """
    formats = QImageReader.supportedImageFormats()
    return {"." + bytes(name).decode("ascii").lower() for name in formats}
