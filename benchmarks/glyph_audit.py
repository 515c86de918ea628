"""The sample's leak audit: can a hand-made operator, with no learning, tell a face glyph from the
distractors beside it?

For every glyph of a face display it measures each low-level statistic a classical operator could
read — mirror symmetry about four axes (Reisfeld, Wolfson & Yeshurun 1995; Kootstra et al. 2008),
the ink's centroid, spread and second moment, the ink's amount, edge density, high-frequency energy,
colour, size, distance from the centre and grid position — and reports, per face category,
P(the face's value > a distractor's in the same display) over every such pair (ties count half).
0.5 means the statistic says nothing about which glyph is the face; near 0 or 1, an operator
reading it finds the face without having learned what a face is. Only the distractors are compared
(the colour singleton beside a face is a target of its own).
"""
from __future__ import annotations

import colorsys
from typing import Callable, Iterable

import numpy as np
from scipy.ndimage import gaussian_filter, laplace, sobel

from helpers import samples

#: The statistics a glyph is measured by: name → what it reads.
STATISTICS = {
    "mirror symmetry, vertical axis": "luminance correlated with its left–right mirror image",
    "mirror symmetry, horizontal axis": "luminance correlated with its top–bottom mirror image",
    "mirror symmetry, diagonal": "luminance correlated with its transpose",
    "mirror symmetry, anti-diagonal": "luminance correlated with its anti-transpose",
    "ink centroid, vertical": "the ink's mean height (radii, downwards)",
    "ink centroid, horizontal": "the ink's mean left–right position (radii)",
    "ink centroid, off the axis": "how far off the vertical axis the ink is balanced",
    "ink spread, vertical": "the ink's standard deviation in height",
    "ink spread, horizontal": "the ink's standard deviation left–right",
    "ink second moment, xy": "the ink's covariance of height and left–right position",
    "ink skew, vertical": "the ink's third moment in height (which way its heavier part lies)",
    "ink amount": "the share of the glyph's disc that is ink",
    "edge density": "mean gradient magnitude inside the disc",
    "high-frequency energy": "mean squared Laplacian inside the disc",
    "colour, hue": "the fill's mean hue",
    "colour, lightness": "the fill's mean luminance",
    "size": "the glyph's radius",
    "distance from the centre": "of the display, in widths",
    "grid position, horizontal": "the glyph's x, in widths",
    "grid position, vertical": "the glyph's y, in heights",
}
#: Statistics of a glyph's relation to the other glyphs of its display: what a rarity map reads (a glyph with
#: no near copy stands out), which no statistic of one glyph alone can show.
RELATIONS = {
    "nearest other glyph, pixels": "RMS luminance difference to the most alike other glyph of the display",
    "nearest other glyph, blurred": "the same, both blurred by a fifth of a radius (the parts' layout, not edges)",
    "distance to the display's mean glyph": "RMS luminance difference to the mean of the display's glyphs",
}
ALL_STATISTICS = {**STATISTICS, **RELATIONS}
#: Luminance below which a pixel inside a glyph is ink (the eyes, the mouth), not its fill.
INK_BELOW = 80.0


def _correlation(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    a, b = a[mask] - a[mask].mean(), b[mask] - b[mask].mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def glyph_statistics(image: np.ndarray, item: tuple[float, float, float]) -> dict[str, float]:
    """Every statistic of :data:`STATISTICS` for the glyph ``item`` = ``(x, y, radius)`` of ``image``
    (uint8 ``(H, W, 3)``; ``x, y`` in the drawing's coordinates, where pixel ``i`` spans ``[i, i + 1)``):
    read in the window of pixels whose centres lie within a radius of the glyph's centre, so that its
    mirror images turn about the glyph's own axes."""
    height, width = image.shape[:2]
    x, y, radius = item
    ys = np.arange(int(np.ceil(y - radius - 0.5)), int(np.floor(y + radius - 0.5)) + 1)
    xs = np.arange(int(np.ceil(x - radius - 0.5)), int(np.floor(x + radius - 0.5)) + 1)
    crop = image[np.ix_(np.clip(ys, 0, height - 1), np.clip(xs, 0, width - 1))].astype(np.float64)
    luminance = crop @ np.array([0.299, 0.587, 0.114])
    dy, dx = np.meshgrid((ys + 0.5 - y) / radius, (xs + 0.5 - x) / radius, indexing="ij")
    inside = dx ** 2 + dy ** 2 <= 0.85 ** 2              # the disc within its ring
    detail = luminance - gaussian_filter(luminance, 0.25 * radius)   # high-passed, as symmetry operators read it
    ink = inside & (luminance < INK_BELOW)
    fill = inside & ~ink
    iy, ix = dy[ink], dx[ink]
    hsv_hue = _hue(crop[fill].mean(axis=0)) if fill.any() else 0.0
    return {
        "mirror symmetry, vertical axis": _correlation(detail, detail[:, ::-1], inside),
        "mirror symmetry, horizontal axis": _correlation(detail, detail[::-1, :], inside),
        "mirror symmetry, diagonal": _correlation(detail, detail.T, inside),
        "mirror symmetry, anti-diagonal": _correlation(detail, detail[::-1, ::-1].T, inside),
        "ink centroid, vertical": float(iy.mean()) if iy.size else 0.0,
        "ink centroid, horizontal": float(ix.mean()) if ix.size else 0.0,
        "ink centroid, off the axis": float(abs(ix.mean())) if ix.size else 0.0,
        "ink spread, vertical": float(iy.std()) if iy.size else 0.0,
        "ink spread, horizontal": float(ix.std()) if ix.size else 0.0,
        "ink second moment, xy": float(((iy - iy.mean()) * (ix - ix.mean())).mean()) if iy.size else 0.0,
        "ink skew, vertical": float(((iy - iy.mean()) ** 3).mean() / max(iy.std(), 1e-9) ** 3) if iy.size else 0.0,
        "ink amount": float(ink.sum() / inside.sum()),
        "edge density": float(np.hypot(sobel(luminance, 0), sobel(luminance, 1))[inside].mean()),
        "high-frequency energy": float((laplace(luminance) ** 2)[inside].mean()),
        "colour, hue": hsv_hue,
        "colour, lightness": float(luminance[fill].mean()) if fill.any() else 0.0,
        "size": float(radius),
        "distance from the centre": float(np.hypot(x / width - 0.5, (y / height - 0.5) * height / width)),
        "grid position, horizontal": float(x / width),
        "grid position, vertical": float(y / height),
    }


def _window(image: np.ndarray, item: tuple[float, float, float], radius: float) -> np.ndarray:
    """The luminance of the pixels within ``radius`` of the glyph's centre, in a square of side ``2 radius``."""
    x, y, _ = item
    side = int(np.floor(radius))
    rows = np.clip(np.arange(round(y) - side, round(y) + side), 0, image.shape[0] - 1)
    columns = np.clip(np.arange(round(x) - side, round(x) + side), 0, image.shape[1] - 1)
    return image[np.ix_(rows, columns)].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def relational_statistics(image: np.ndarray, items: list) -> list[dict[str, float]]:
    """:data:`RELATIONS` for every glyph of one display (``items``: ``(x, y, radius)``, one radius for all)."""
    radius = min(item[2] for item in items)
    windows = np.stack([_window(image, item, radius) for item in items])
    blurred = np.stack([gaussian_filter(window, 0.2 * radius) for window in windows])
    found = []
    for index in range(len(items)):
        others = [k for k in range(len(items)) if k != index]
        rms = lambda stack, k: float(np.sqrt(((stack[index] - stack[k]) ** 2).mean()))  # noqa: E731
        found.append({"nearest other glyph, pixels": min(rms(windows, k) for k in others),
                      "nearest other glyph, blurred": min(rms(blurred, k) for k in others),
                      "distance to the display's mean glyph":
                          float(np.sqrt(((windows[index] - windows.mean(axis=0)) ** 2).mean()))})
    return found


def _hue(rgb: np.ndarray) -> float:
    return colorsys.rgb_to_hsv(*(rgb / 255.0))[0]


def face_displays(category: str, count: int, seed: int = 0,
                  make: Callable = samples.make_search_display) -> Iterable[tuple[np.ndarray, list]]:
    """``count`` displays of a face category, as the sample draws them (``make``: the generator)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        image, items, _ = make(category, rng)
        yield image, items


def audit(displays: Iterable[tuple[np.ndarray, list]], category: str) -> dict[str, float]:
    """Statistic (:data:`ALL_STATISTICS`) → P(the face's value > a distractor's in the same display), ties counting
    half, over every face–distractor pair of ``displays`` (``(image, items)``, the face ``items[0]``)."""
    first_distractor = 2 if category == "FaceAndColourSingleton" else 1
    wins = {name: 0.0 for name in ALL_STATISTICS}
    pairs = 0
    for image, items in displays:
        measured = [_rounded({**glyph_statistics(image, item), **relations})
                    for item, relations in zip(items, relational_statistics(image, items))]
        face, others = measured[0], measured[first_distractor:]
        pairs += len(others)
        for name in ALL_STATISTICS:
            values = np.array([other[name] for other in others])
            wins[name] += float((face[name] > values).sum() + 0.5 * (face[name] == values).sum())
    return {name: wins[name] / max(pairs, 1) for name in ALL_STATISTICS}


def _rounded(statistics: dict[str, float]) -> dict[str, float]:
    """To 9 decimals: two glyphs equal but for the order of a sum are a tie, not a difference."""
    return {name: round(value, 9) for name, value in statistics.items()}


def leaks(table: dict[str, float], low: float = 0.35, high: float = 0.65) -> dict[str, float]:
    """The statistics of an :func:`audit` outside ``[low, high]``: those that single the face out."""
    return {name: value for name, value in table.items() if not low <= value <= high}
