"""The face displays of the saliency sample's version 3, as they were drawn (helpers/samples.py at
commit fd88cfb): one upright face among *scrambled* faces — the parts moved to random slots. Kept
only so that a test can show the leak audit (benchmarks/glyph_audit.py) finds what leaked from them:
the upright face was the one mirror-symmetric glyph, with its ink higher and more spread."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from helpers.samples import (DISTRACTOR, SECOND_TARGET, SINGLETON, _background, _hue, _item_places,
                             make_search_display)

#: Where a schematic face's parts may sit inside its ring, in radii from its centre: a 3 × 3 grid of
#: slots (column, row). The face: eyes in the two upper corners, the mouth below the middle.
_SLOT_X, _SLOT_Y = (-0.45, 0.0, 0.45), (-0.36, 0.0, 0.36)
FACE_PARTS = ((0, 0), (2, 0), (1, 2))   # (column, row) of the left eye, the right eye, the mouth


def _is_face_like(parts) -> bool:
    """Whether an arrangement of (eye, eye, mouth) slots reads as an upright face: both eyes on one
    row, the mouth on a lower row between them."""
    (c1, r1), (c2, r2), (cm, rm) = parts
    return r1 == r2 and rm > r1 and min(c1, c2) <= cm <= max(c1, c2)


def scrambled_parts(rng: np.random.Generator):
    """The same two eyes and mouth in three other slots, never in an upright face's arrangement."""
    slots = [(c, r) for r in range(3) for c in range(3)]
    while True:
        parts = tuple(slots[i] for i in rng.choice(len(slots), size=3, replace=False))
        if not _is_face_like(parts):
            return parts


def _draw_face(draws, centre, radius: float, fill, label: int, parts) -> None:
    """A schematic face glyph: a disc of ``fill`` with a dark ring, two eyes and a smiling mouth, the
    parts in ``parts`` ((column, row) slots of :data:`_SLOT_X` × :data:`_SLOT_Y`). Every glyph has
    the same parts, so the same ink: only where they sit differs."""
    image_draw, label_draw = draws
    x, y = centre
    ink, line = (25, 25, 25), max(1, round(0.09 * radius))
    box = [x - radius, y - radius, x + radius, y + radius]
    image_draw.ellipse(box, fill=fill, outline=ink, width=line)
    label_draw.ellipse(box, fill=label)
    for index, (column, row) in enumerate(parts):
        px, py = x + _SLOT_X[column] * radius, y + _SLOT_Y[row] * radius
        if index < 2:  # an eye
            eye = 0.13 * radius
            image_draw.ellipse([px - eye, py - eye, px + eye, py + eye], fill=ink)
        else:          # the mouth: the lower part of an ellipse
            image_draw.arc([px - 0.27 * radius, py - 0.2 * radius, px + 0.27 * radius, py + 0.1 * radius],
                           20, 160, fill=ink, width=line)


def _face_display(category: str, rng: np.random.Generator, size: tuple[int, int] = (640, 360)):
    """A display of face glyphs (see :func:`make_search_display`): one face, every other glyph
    scrambled; in ``FaceAndColourSingleton`` the second glyph is a scrambled face of the opposite hue."""
    width, height = size
    image = Image.fromarray(_background(rng, height, width))
    labels = Image.new("L", (width, height), 0)
    draws = (ImageDraw.Draw(image), ImageDraw.Draw(labels))
    hue = rng.uniform(0, 1)
    radius = 34 * width / 640
    items = []
    colour_singleton = category == "FaceAndColourSingleton"
    for rank, (x, y) in enumerate(_item_places(rng, size, rows=3, cols=5, count=int(rng.integers(8, 13)))):
        if rank == 0:
            fill, label, parts = _hue(hue, 0.5), SINGLETON, FACE_PARTS
        elif rank == 1 and colour_singleton:
            fill, label, parts = _hue(hue + 0.5, 0.5), SECOND_TARGET, scrambled_parts(rng)
        else:
            fill, label, parts = _hue(hue, 0.5), DISTRACTOR, scrambled_parts(rng)
        _draw_face(draws, (x, y), radius, fill, label, parts)
        items.append((x, y, radius))
    return np.asarray(image), items, np.asarray(labels)



def make_display(category: str, rng: np.random.Generator, size: tuple[int, int] = (640, 360)):
    """As ``helpers.samples.make_search_display`` drew a display in version 3."""
    if category in ("FaceAmongScrambled", "FaceAmongInverted", "FaceAndColourSingleton"):
        return _face_display(category, rng, size)
    return make_search_display(category, rng, size)
