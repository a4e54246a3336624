"""The engine settings dialog: remote address and token, engine command, keep-running, and
few-step sampling."""

from __future__ import annotations

from dataclasses import replace

from .qt import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget
from .settings import Settings, token_file


class SettingsDialog(QDialog):
    """Edits the connection settings; the caller reads `result_settings()` after accept."""

    def __init__(self, current: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sketch Variants: engine settings")
        self._current = current
        self.server_url = QLineEdit(current.server_url)
        self.server_url.setPlaceholderText("empty: the plugin starts and uses a local engine")
        self.token = QLineEdit(current.token)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(f"empty: read {token_file()}")
        self.command = QLineEdit(current.engine_command)
        self.command.setPlaceholderText("empty: the engine installed by `make install`")
        self.keep = QCheckBox("keep the engine running when Krita quits")
        self.keep.setChecked(current.keep_engine_running)
        self.fast = QCheckBox(
            "few-step sampling: the model's own steps (4 for the shipped model) for live "
            "previews and variants; off: 16 steps, as before"
        )
        self.fast.setChecked(current.params.fast_sampling)
        hint = QLabel(
            "For a studio GPU box, enter its address (e.g. http://gpu-box:8731) and the token "
            "printed by `python -m engine serve --print-token` there. A remote engine always "
            "needs its own token: the local engine's token never leaves this machine."
        )
        hint.setWordWrap(True)
        # Krita offers Python plugins no keychain or wallet, so the token can only go to kritarc.
        self.storage = QLabel(
            "The token is stored in plain text in Krita's settings file (kritarc): Krita has "
            "no password store for plugins."
        )
        self.storage.setWordWrap(True)
        buttons = QDialogButtonBox(
            # The type checker's Qt stubs type two flags or-ed together as an int, which Qt takes.
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel  # type: ignore[call-overload]
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Engine address", self.server_url)
        form.addRow("Token", self.token)
        form.addRow("", self.storage)
        form.addRow("Engine command", self.command)
        form.addRow("", self.keep)
        form.addRow("Sampling", self.fast)
        form.addRow(hint)
        form.addRow(buttons)

    def result_settings(self) -> Settings:
        """The settings as edited."""
        return replace(
            self._current,
            server_url=self.server_url.text().strip(),
            token=self.token.text().strip(),
            engine_command=self.command.text().strip(),
            keep_engine_running=self.keep.isChecked(),
            params=replace(self._current.params, fast_sampling=self.fast.isChecked()),
        )
