"""The colour hint: the main colour of a drawing, as the network's input and as a palette.

An eye's iris may be any hue, and a sketch does not say which: a network asked for the clean
image under that doubt paints the average of all hues, a grey-green. Given the main colour as an
input (drawn per variant from the palette of the training drawings, or chosen by the artist), it
has no hue to guess and paints clear colours.
"""

from __future__ import annotations

import numpy as np

HINT_CHANNELS = 4  # R, G, B in [-1, 1] and 1 when a hint is given (all 0: no hint)
PAINT_THRESHOLD = 0.25  # a pixel is painted when it differs from white by more than this
MIN_SATURATION = 0.2  # paint below this saturation is grey: lines and shading, not a colour
MIN_COLOURED_SHARE = 0.01  # a drawing with less coloured paint than this has no main colour
PALETTE_SIZE = 64  # main colours a model keeps from its training drawings
GOLDEN_FRACTION = (5**0.5 - 1) / 2  # steps round the palette that never line up (palette_colour)


def hue_saturation(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HSV hue in [0, 1) and saturation in [0, 1] of every pixel of float RGB in [0, 1]."""
    high = images.max(axis=-1)
    low = images.min(axis=-1)
    chroma = high - low
    saturation = np.where(high > 0, chroma / np.maximum(high, 1e-6), 0.0)
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    safe = np.maximum(chroma, 1e-6)
    hue = np.where(
        high == r,
        ((g - b) / safe) % 6,
        np.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    return np.where(chroma > 0, hue / 6.0, 0.0), saturation


def painted(images: np.ndarray) -> np.ndarray:
    """Pixels that carry paint (differ from white) of float RGB in [0, 1]: bool, one less axis."""
    return (1.0 - images.min(axis=-1)) > PAINT_THRESHOLD


def main_colour(image: np.ndarray) -> np.ndarray | None:
    """Mean colour of the most vivid half of a drawing's coloured paint, RGB in [0, 1].

    Vivid is chroma (max - min channel), not HSV saturation, so the near-black rims and pupils
    (saturated but dark) do not pull the colour down to what an artist would call black.
    image: (H, W, 3) float in [0, 1] on white. None when the drawing is (nearly) colourless.
    """
    _, saturation = hue_saturation(image)
    coloured = painted(image) & (saturation >= MIN_SATURATION)
    if coloured.mean() < MIN_COLOURED_SHARE:
        return None
    chroma = image.max(axis=-1) - image.min(axis=-1)
    vivid = coloured & (chroma >= np.median(chroma[coloured]))
    return image[vivid].mean(axis=0)


def hint_input(colour: np.ndarray | None) -> np.ndarray:
    """The network's hint input for one image: (1, 1, 4) float32; zeros mean no hint."""
    hint = np.zeros((1, 1, HINT_CHANNELS), np.float32)
    if colour is not None:
        hint[0, 0, :3] = np.asarray(colour, np.float32) * 2.0 - 1.0
        hint[0, 0, 3] = 1.0
    return hint


def palette_of(images: np.ndarray, size: int = PALETTE_SIZE) -> tuple[int, ...]:
    """Main colours of up to `size` drawings, spread over the set, as flat R, G, B (0-255)."""
    picks = np.unique(np.linspace(0, len(images) - 1, min(size, len(images))).round().astype(int))
    colours = [main_colour(images[index]) for index in picks]
    found = [np.round(colour * 255).astype(int) for colour in colours if colour is not None]
    return tuple(int(value) for colour in found for value in colour)


def palette_colour(palette: tuple[int, ...], seed: int) -> np.ndarray | None:
    """The palette colour of a variant's seed, RGB in [0, 1]; None for an empty palette.

    The colours are taken in hue order, and seed s takes the one at the fraction s x 0.618...
    (the golden ratio's) of the way round: a request's consecutive seeds land far apart, so its
    variants come in hues spread round the wheel rather than by chance in three teals, and over
    many seeds every colour is drawn equally often, as the training drawings' colours were.
    """
    if not palette:
        return None
    colours = np.asarray(palette, np.float32).reshape(-1, 3) / 255.0
    hues, _ = hue_saturation(colours)
    by_hue = np.argsort(hues, kind="stable")
    position = (seed * GOLDEN_FRACTION) % 1.0
    return colours[by_hue[int(position * len(colours))]]


def parse_colour(text: str) -> np.ndarray:
    """'#rrggbb' as RGB in [0, 1]; ValueError names what is wrong."""
    digits = text[1:] if text.startswith("#") else text
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"colour {text!r:.20} is not a colour: use #rrggbb, e.g. #3a7bd5")
    return np.array([int(digits[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0
