"""A plain-Python stand-in for the `krita` module: real pixel buffers, the API the plugin uses."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sketch_variants.qt import QAction, QByteArray, QImage, QObject, QtCore, QtWidgets, Signal

BYTES_PER_PIXEL = {"U8": 4, "U16": 8, "F16": 8, "F32": 16}


class FakeUuid:
    """Like QUuid: compared through toString()."""

    def __init__(self) -> None:
        self._text = "{" + str(uuid.uuid4()) + "}"

    def toString(self) -> str:  # noqa: N802 - Qt's name
        """The id as text."""
        return self._text


class Node:
    """A layer with a whole-canvas BGRA buffer (Krita's RGBA/U8 byte order)."""

    def __init__(self, document: Document, name: str, kind: str, model: str, depth: str) -> None:
        self.document = document
        self._name, self._type, self._model, self._depth = name, kind, model, depth
        self._id = FakeUuid()
        self._children: list[Node] = []  # bottom to top, like Krita
        self._parent: Node | None = None
        self._visible = True
        size = BYTES_PER_PIXEL[depth]
        self.pixels = bytearray(document.width() * document.height() * size)
        self._thumbnail: QImage | None = None  # cached until the pixels change, as in Krita

    def name(self) -> str:
        """The layer's name."""
        return self._name

    def setName(self, name: str) -> None:  # noqa: N802 - Krita's name
        """Rename."""
        self._name = name

    def type(self) -> str:
        """paintlayer, grouplayer, vectorlayer, ..."""
        return self._type

    def colorModel(self) -> str:  # noqa: N802 - Krita's name
        """RGBA, GRAYA, CMYKA, ..."""
        return self._model

    def colorDepth(self) -> str:  # noqa: N802 - Krita's name
        """U8, U16, F16, F32."""
        return self._depth

    def uniqueId(self) -> FakeUuid:  # noqa: N802 - Krita's name
        """Stable id."""
        return self._id

    def parentNode(self) -> Node | None:  # noqa: N802 - Krita's name
        """The parent, None for the root."""
        return self._parent

    def childNodes(self) -> list[Node]:  # noqa: N802 - Krita's name
        """Children, bottom to top."""
        return list(self._children)

    def addChildNode(self, child: Node, above: Node | None) -> bool:  # noqa: N802
        """Add `child` directly above `above`, or on top when `above` is None (as Krita does)."""
        index = len(self._children) if above is None else self._children.index(above) + 1
        self._children.insert(index, child)
        child._parent = self
        return True

    def remove(self) -> bool:
        """Take the node out of the tree."""
        if self._parent is not None:
            self._parent._children.remove(self)
            self._parent = None
        return True

    def visible(self) -> bool:
        """Shown?"""
        return self._visible

    def setVisible(self, value: bool) -> None:  # noqa: N802 - Krita's name
        """Show or hide."""
        self._visible = value

    def bounds(self) -> QtCore.QRect:
        """The exact box of pixels with non-zero alpha (the empty QRect if none)."""
        width, size = self.document.width(), BYTES_PER_PIXEL[self._depth]
        xs, ys = [], []
        for index in range(0, len(self.pixels), size):
            if any(self.pixels[index + size - size // 4 : index + size]):
                pixel = index // size
                xs.append(pixel % width)
                ys.append(pixel // width)
        if not xs:
            return QtCore.QRect()
        return QtCore.QRect(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)

    def pixelData(self, x: int, y: int, w: int, h: int) -> QByteArray:  # noqa: N802
        """Raw pixels of a rectangle, row by row; transparent outside the canvas."""
        size, width = BYTES_PER_PIXEL[self._depth], self.document.width()
        out = bytearray(w * h * size)
        for row in range(h):
            for col in range(w):
                px, py = x + col, y + row
                if 0 <= px < width and 0 <= py < self.document.height():
                    src = (py * width + px) * size
                    dst = (row * w + col) * size
                    out[dst : dst + size] = self.pixels[src : src + size]
        return QByteArray(bytes(out))

    def thumbnail(self, w: int, h: int) -> QImage:
        """A w x h picture of the layer; the same image (same cacheKey) until pixels change."""
        if self._thumbnail is None or (self._thumbnail.width(), self._thumbnail.height()) != (w, h):
            self._thumbnail = QImage(w, h, QImage.Format.Format_ARGB32)
        return self._thumbnail

    def setPixelData(self, data: Any, x: int, y: int, w: int, h: int) -> bool:  # noqa: N802
        """Write raw pixels of a rectangle."""
        self._thumbnail = None
        data = bytes(data)
        size, width = BYTES_PER_PIXEL[self._depth], self.document.width()
        assert len(data) == w * h * size, "setPixelData got the wrong number of bytes"
        for row in range(h):
            for col in range(w):
                px, py = x + col, y + row
                if 0 <= px < width and 0 <= py < self.document.height():
                    src = (row * w + col) * size
                    dst = (py * width + px) * size
                    self.pixels[dst : dst + size] = data[src : src + size]
        return True


class Selection:
    """A rectangular selection."""

    def __init__(self, x: int, y: int, w: int, h: int) -> None:
        self._box = (x, y, w, h)

    def x(self) -> int:
        """Left."""
        return self._box[0]

    def y(self) -> int:
        """Top."""
        return self._box[1]

    def width(self) -> int:
        """Width."""
        return self._box[2]

    def height(self) -> int:
        """Height."""
        return self._box[3]


class Document:
    """An image: a root node, an active node, maybe a selection."""

    def __init__(self, width: int, height: int, name: str = "doc") -> None:
        self._width, self._height, self._name = width, height, name
        self._root = Node(self, "root", "grouplayer", "RGBA", "U8")
        self._active: Node | None = None
        self._selection: Selection | None = None
        self.refreshed = 0

    def width(self) -> int:
        """Canvas width."""
        return self._width

    def height(self) -> int:
        """Canvas height."""
        return self._height

    def name(self) -> str:
        """Document name."""
        return self._name

    def rootNode(self) -> Node:  # noqa: N802 - Krita's name
        """The root group."""
        return self._root

    def activeNode(self) -> Node | None:  # noqa: N802 - Krita's name
        """The layer selected in the Layers docker."""
        return self._active

    def setActiveNode(self, node: Node) -> None:  # noqa: N802 - Krita's name
        """Make `node` active."""
        self._active = node

    def selection(self) -> Selection | None:
        """The global selection, None when nothing is selected."""
        return self._selection

    def setSelection(self, selection: Selection | None) -> None:  # noqa: N802
        """Replace the selection."""
        self._selection = selection

    def createNode(self, name: str, kind: str, model: str = "RGBA", depth: str = "U8") -> Node:  # noqa: N802
        """A new node, not yet in the tree (the extra arguments are for tests only)."""
        return Node(self, name, kind, model, depth)

    def createGroupLayer(self, name: str) -> Node:  # noqa: N802 - Krita's name
        """A new group, not yet in the tree."""
        return Node(self, name, "grouplayer", "RGBA", "U8")

    def refreshProjection(self) -> None:  # noqa: N802 - Krita's name
        """Count redraws."""
        self.refreshed += 1

    def close(self) -> bool:
        """Close: the document leaves Krita's list."""
        app = Krita.instance()
        app.docs.remove(self)
        if app.active is self:
            app.active = app.docs[-1] if app.docs else None
        return True


class View:
    """A view on a document with the Layers docker's multi-selection."""

    def __init__(self, document: Document, selected: list[Node] | None = None) -> None:
        self._document = document
        self.selected = selected or []

    def document(self) -> Document:
        """The viewed document."""
        return self._document

    def selectedNodes(self) -> list[Node]:  # noqa: N802 - Krita's name
        """Layers selected in the Layers docker."""
        return list(self.selected)


class Window(QObject):
    """A main window that creates QActions."""

    def __init__(self) -> None:
        super().__init__()
        self.view: View | None = None
        self.actions: dict[str, QAction] = {}

    def activeView(self) -> View | None:  # noqa: N802 - Krita's name
        """The current view."""
        return self.view

    def createAction(self, name: str, text: str, menu: str) -> QAction:  # noqa: N802
        """Create and remember an action."""
        action = QAction(text, self)
        action.setObjectName(name)
        action.setProperty("menu", menu)
        self.actions[name] = action
        return action


class Notifier(QObject):
    """Application-level signals."""

    applicationClosing = Signal()  # noqa: N815 - Krita's name


class Krita(QObject):
    """The application singleton."""

    _instance: Krita | None = None

    def __init__(self) -> None:
        super().__init__()
        self.docs: list[Document] = []
        self.active: Document | None = None
        self.window = Window()
        self.settings: dict[tuple[str, str], str] = {}
        self.extensions: list[Any] = []
        self.factories: list[Any] = []
        self._notifier = Notifier()

    @classmethod
    def instance(cls) -> Krita:
        """The singleton."""
        if cls._instance is None:
            cls._instance = Krita()
        return cls._instance

    @classmethod
    def reset(cls) -> Krita:
        """Tests only: a fresh application."""
        cls._instance = Krita()
        return cls._instance

    def add_document(self, document: Document, selected: list[Node] | None = None) -> Document:
        """Tests only: open a document in the window and make it active."""
        self.docs.append(document)
        self.active = document
        self.window.view = View(document, selected)
        return document

    def activeDocument(self) -> Document | None:  # noqa: N802 - Krita's name
        """The document of the active view."""
        return self.active

    def documents(self) -> list[Document]:
        """Open documents."""
        return list(self.docs)

    def activeWindow(self) -> Window:  # noqa: N802 - Krita's name
        """The main window."""
        return self.window

    def readSetting(self, group: str, name: str, default: str) -> str:  # noqa: N802
        """A kritarc value."""
        return self.settings.get((group, name), default)

    def writeSetting(self, group: str, name: str, value: str) -> None:  # noqa: N802
        """Set a kritarc value."""
        self.settings[(group, name)] = value

    def addExtension(self, extension: Any) -> None:  # noqa: N802 - Krita's name
        """Register an extension and set it up, as Krita does at startup."""
        self.extensions.append(extension)
        extension.setup()
        extension.createActions(self.window)

    def addDockWidgetFactory(self, factory: Any) -> None:  # noqa: N802 - Krita's name
        """Register a docker factory."""
        self.factories.append(factory)

    def notifier(self) -> Notifier:
        """Application signals."""
        return self._notifier


class Extension(QObject):
    """Base class of plugin extensions."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent if isinstance(parent, QObject) else None)


class DockWidget(QtWidgets.QDockWidget):
    """Base class of plugin dockers."""


class DockPosition(enum.IntEnum):
    """Krita's docker positions, scoped as Krita 6 requires (Krita 5 accepts it too)."""

    DockRight = 2


class DockWidgetFactoryBase:
    """Docker positions."""

    DockPosition = DockPosition

    def __init__(self, docker_id: str, position: int) -> None:
        self.docker_id, self.position = docker_id, position


class DockWidgetFactory(DockWidgetFactoryBase):
    """Makes dockers of a class."""

    def __init__(self, docker_id: str, position: int, klass: type) -> None:
        super().__init__(docker_id, position)
        self.klass = klass

    def createDockWidget(self) -> Any:  # noqa: N802 - Krita's name
        """A new docker."""
        return self.klass()
