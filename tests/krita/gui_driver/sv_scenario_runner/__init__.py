"""A helper plugin for the scenario tests, loaded next to Sketch Variants in a throwaway Krita home.

Once Krita's main window is up it runs `krita_scenarios.main` (facts to $SV_RESULTS), then quits
Krita. The scenarios run in the whole Krita rather than in kritarunner because Krita 6's
kritarunner cannot show a main window (it crashes in KisMainWindow::showEvent, its GUI resources
missing: `No such XML file ":/kxmlgui5/krita5.xmlgui"`); Krita 5 runs them in kritarunner.
"""

from __future__ import annotations

import os
import sys

from krita import Krita
from sketch_variants.qt import QTimer

QUIT_GRACE_MS = 20_000  # if Krita has not quit by then (a dialog, say), the process ends anyway


def run() -> None:
    """Wait for the main window, run the scenarios, quit."""
    app = Krita.instance()
    if app.activeWindow() is None:
        QTimer.singleShot(250, run)
        return
    # Krita may not apply PYTHONPATH to plugins; the scenarios and the harness are found there.
    sys.path[:0] = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    import krita_scenarios

    krita_scenarios.main()
    for document in app.documents():
        document.setModified(False)  # no "save changes?" dialog on the way out
    QTimer.singleShot(QUIT_GRACE_MS, lambda: os._exit(0))
    app.action("file_quit").trigger()


if os.environ.get("SV_RESULTS"):
    QTimer.singleShot(250, run)
