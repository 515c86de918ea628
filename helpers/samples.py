"""Generated sample data sets in the real on-disk formats, with a known answer: visual-search displays in the
CAT2000 layout (four pop-out categories, two face categories; :data:`CATEGORY_TESTS`, :data:`FIXATION_MODEL`)
and crops of real photographs in Tiny-ImageNet's. Samples, not the papers' data (``docs/part1-sample.md``).
"""
from __future__ import annotations

import colorsys
import json
import math
import os
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy.io import savemat
from scipy.ndimage import gaussian_filter

from . import paths
from .io import replace_dir, restore_set_aside, staging_dir

#: Where each fixation comes from, and how many fixations (all observers together) an image gets.
FIXATION_MODEL = {
    "fixations_per_image": 60,
    "on_singleton": 0.60,     # Gaussian around the target, sd = fixation_sd × its radius
    "face_share": 2 / 3,      # with a face and a colour singleton: the face's part of on_singleton
    "on_distractors": 0.25,   # the same around a distractor picked at random
    "centre_bias": 0.15,      # Gaussian around the image centre, sd = centre_sd × width and height
    "fixation_sd": 0.6,       # in item radii
    "centre_sd": 0.2,         # as a fraction of the width and of the height
    "map_blur_sigma": 1 / 32,  # continuous maps: Gaussian blur, sigma as a fraction of the width
}
#: What each category of the saliency sample tests (the README and docs/part1-sample.md show it).
CATEGORY_TESTS = {
    "ColourSingleton": "pop-out: one disc of the opposite hue among discs of one hue",
    "LuminanceSingleton": "pop-out: one bright disc among dark ones of the same hue",
    "OrientationSingleton": "pop-out: one bar turned by 90° among parallel bars",
    "SizeSingleton": "pop-out: one disc almost twice as large as the others",
    "FaceAmongInverted": "no pop-out: one schematic face among the same face upside down (the same ring, eyes, "
                         "mouth, ink, symmetry and ink moments); only the arrangement, eyes above mouth, tells it",
    "FaceAndColourSingleton": "a face and a colour singleton among upside-down faces; two thirds of the fixations on "
                              "the targets go to the face, one third to the colour singleton",
}
SALIENCY_CATEGORIES = tuple(CATEGORY_TESTS)
#: The categories whose target (``items[0]``) is a face: a contrast map cannot tell it from its distractors.
FACE_CATEGORIES = ("FaceAmongInverted", "FaceAndColourSingleton")
POP_OUT_CATEGORIES = tuple(c for c in SALIENCY_CATEGORIES if c not in FACE_CATEGORIES)
SAMPLE_VERSION = 4
#: Images per category of the sample that the notebooks make on first use.
IMAGES_PER_CATEGORY = 80
#: The environment variable that chooses the sample's seed (default 0): ``SAMPLE_SEED=7 make run``.
SAMPLE_SEED_VARIABLE = "SAMPLE_SEED"
#: Beside the displays, in every layout: ``truth/<key>_density.png`` (the density the fixations were
#: drawn from, 16-bit) and ``truth/<key>_items.png`` (0 background, 1 the target — the singleton or the
#: face —, 2 a distractor, 3 a second target: the colour singleton beside a face).
TRUTH_DIR = "truth"
SINGLETON, DISTRACTOR, SECOND_TARGET = 1, 2, 3


def saliency_sample_dir() -> Path:
    return paths.data_dir() / "cat2000-sample"


def sample_seed() -> int:
    """The saliency sample's seed: the ``SAMPLE_SEED`` environment variable, else 0."""
    text = os.environ.get(SAMPLE_SEED_VARIABLE, "").strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{SAMPLE_SEED_VARIABLE} must be a whole number (the saliency sample's seed), "
                         f"got {text!r}") from None


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth coloured noise (a texture that the network must learn to ignore), uint8 (H, W, 3)."""
    coarse = rng.normal(0.0, 1.0, size=(height // 16 + 2, width // 16 + 2, 3))
    texture = np.asarray(Image.fromarray(((coarse * 0.15 + 0.5).clip(0, 1) * 255).astype(np.uint8))
                         .resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32)
    grain = rng.normal(0.0, 6.0, size=(height, width, 1))
    tint = rng.uniform(70, 140, size=3)
    return np.clip(tint + (texture - 128) * 0.5 + grain, 0, 255).astype(np.uint8)


def _hue(h: float, saturation: float = 0.85, value: float = 0.9) -> tuple[int, int, int]:
    return tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(h % 1.0, saturation, value))


def _draw_item(draws, centre, radius: float, fills, angle: float | None) -> None:
    """Draw one item (a disc, or a bar when ``angle`` is given) with ``fills[k]`` on ``draws[k]``."""
    x, y = centre
    if angle is None:
        for draw, fill in zip(draws, fills):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=fill)
        return
    half_long, half_short = radius * 1.3, radius * 0.35
    c, s = math.cos(angle), math.sin(angle)
    corners = [(x + dx * c - dy * s, y + dx * s + dy * c)
               for dx, dy in ((-half_long, -half_short), (half_long, -half_short),
                              (half_long, half_short), (-half_long, half_short))]
    for draw, fill in zip(draws, fills):
        draw.polygon(corners, fill=fill)


def make_search_display(category: str, rng: np.random.Generator, size: tuple[int, int] = (640, 360)):
    """One display: ``(image uint8 (H, W, 3), items, labels uint8 (H, W))``.

    ``items[0]`` is the target (the singleton, or the face), ``items[1]`` the second target where the
    category has one (:func:`target_shares`); each item is ``(x, y, radius)``; the rest are
    distractors, on a jittered grid. ``labels`` marks every item's pixels: :data:`SINGLETON`,
    :data:`SECOND_TARGET` or :data:`DISTRACTOR`.
    """
    if category not in CATEGORY_TESTS:
        raise ValueError(f"unknown sample category {category!r}; expected one of {SALIENCY_CATEGORIES}")
    if category in FACE_CATEGORIES:
        return _face_display(category, rng, size)
    width, height = size
    unit = width / 640
    image = Image.fromarray(_background(rng, height, width))
    labels = Image.new("L", (width, height), 0)
    draws = (ImageDraw.Draw(image), ImageDraw.Draw(labels))
    hue = rng.uniform(0, 1)
    angle = rng.uniform(0, math.pi)
    base_radius = 16 * unit
    items = []
    for rank, (x, y) in enumerate(_item_places(rng, size, rows=4, cols=7, count=int(rng.integers(14, 22)))):
        is_target = rank == 0
        radius, colour, item_angle = base_radius, _hue(hue), None
        if category == "ColourSingleton":
            colour = _hue(hue + 0.5) if is_target else _hue(hue)
        elif category == "LuminanceSingleton":
            colour = _hue(hue, 0.3, 1.0) if is_target else _hue(hue, 0.3, 0.35)
        elif category == "OrientationSingleton":
            item_angle = angle + (math.pi / 2 if is_target else 0.0)
        elif category == "SizeSingleton":
            radius = base_radius * (1.9 if is_target else 1.0)
        _draw_item(draws, (x, y), radius, (colour, SINGLETON if is_target else DISTRACTOR), item_angle)
        items.append((x, y, radius))
    return np.asarray(image), items, np.asarray(labels)


def _item_places(rng: np.random.Generator, size: tuple[int, int], rows: int, cols: int, count: int):
    """``count`` item centres: distinct cells of a ``rows`` × ``cols`` grid, each jittered within its cell."""
    width, height = size
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    for cell_index in rng.permutation(len(cells))[:count]:
        r, c = cells[cell_index]
        yield ((c + 0.5 + rng.uniform(-0.2, 0.2)) * width / cols, (r + 0.5 + rng.uniform(-0.2, 0.2)) * height / rows)


#: A face glyph, in radii: the eyes' distance from the vertical axis and their side (square dots;
#: the mouth is a bar of the same height and twice the width, so it holds exactly the two eyes' ink),
#: and the ranges every glyph's ink centre and eyes-to-mouth gap are drawn from.
EYE_OFFSET, EYE_SIDE = 0.40, 0.18
INK_CENTRE, PART_GAP = 0.10, (0.50, 0.70)


def face_layout(rng: np.random.Generator, upright: bool) -> tuple[float, float]:
    """``(eyes, mouth)``: the heights of a glyph's eyes and mouth, in radii downwards from its centre.
    Every glyph draws its ink's centre and its eyes-to-mouth gap alike; the face puts its eyes above
    its mouth, every distractor below — an upside-down face. Eyes and mouth hold the same ink in the
    same rows' shape, so a distractor is the face turned upside down about its ink centre: symmetry,
    moments and ink are drawn from one distribution for both (``benchmarks/glyph_audit.py`` checks it), and
    only the arrangement, eyes above mouth, tells the face."""
    centre, gap = rng.uniform(-INK_CENTRE, INK_CENTRE), rng.uniform(*PART_GAP)
    return (centre - gap / 2, centre + gap / 2) if upright else (centre + gap / 2, centre - gap / 2)


def face_glyph(radius: float, fill, eyes: float, mouth: float) -> np.ndarray:
    """One glyph as RGBA ``(2s, 2s, 4)`` whose centre is the corner between its four middle pixels: a
    disc of ``fill`` in a dark ring, mirror-symmetric about both midlines to the pixel, two square eyes
    at height ``eyes`` and a bar-shaped mouth at height ``mouth`` (:func:`face_layout`)."""
    s = int(math.ceil(radius)) + 1
    canvas = Image.new("RGBA", (2 * s, 2 * s), (0, 0, 0, 0))
    ink = (25, 25, 25, 255)
    ImageDraw.Draw(canvas).ellipse([s - radius, s - radius, s + radius, s + radius], fill=tuple(fill) + (255,),
                                   outline=ink, width=max(1, round(0.09 * radius)))
    glyph = np.array(canvas)
    glyph[:, s:] = glyph[:, :s][:, ::-1]
    glyph[s:, :] = glyph[:s, :][::-1]
    half = max(1, round(EYE_SIDE * radius / 2))        # even sides: every part centred on a midline
    eye = 2 * round(EYE_OFFSET * radius / 2)
    eye_row, mouth_row = s + round(eyes * radius), s + round(mouth * radius)
    for column in (s - eye, s + eye):
        glyph[eye_row - half:eye_row + half, column - half:column + half] = ink
    glyph[mouth_row - half:mouth_row + half, s - 2 * half:s + 2 * half] = ink
    return glyph


def _face_display(category: str, rng: np.random.Generator, size: tuple[int, int]):
    """A display of face glyphs (see :func:`make_search_display`): one upright face, every other glyph
    upside down; in ``FaceAndColourSingleton`` the second glyph is an upside-down face of the opposite
    hue. Glyph centres are whole pixels' corners, so each glyph keeps its exact symmetry."""
    width, height = size
    image = Image.fromarray(_background(rng, height, width))
    labels = np.zeros((height, width), np.uint8)
    hue = rng.uniform(0, 1)
    radius = 34 * width / 640
    items = []
    for rank, (x, y) in enumerate(_item_places(rng, size, rows=3, cols=5, count=int(rng.integers(8, 13)))):
        x, y = round(x), round(y)
        fill, label = _hue(hue, 0.5), (SINGLETON if rank == 0 else DISTRACTOR)
        if rank == 1 and category == "FaceAndColourSingleton":
            fill, label = _hue(hue + 0.5, 0.5), SECOND_TARGET
        glyph = face_glyph(radius, fill, *face_layout(rng, upright=rank == 0))
        s = glyph.shape[0] // 2
        image.paste(Image.fromarray(glyph), (x - s, y - s), Image.fromarray(glyph[..., 3]))
        labels[y - s:y + s, x - s:x + s][glyph[..., 3] > 0] = label
        items.append((x, y, radius))
    return np.asarray(image), items, labels


def target_shares(category: str, faces: bool = True) -> tuple[float, ...]:
    """The share of the fixations that goes to each target, ``items[0]`` (and ``items[1]``), by
    :data:`FIXATION_MODEL`. ``faces=False``: what a model that cannot see faces would expect — a face
    draws no more than a distractor (its share 0, and it counts among the distractors)."""
    on_targets = FIXATION_MODEL["on_singleton"]
    if category == "FaceAndColourSingleton":
        face = FIXATION_MODEL["face_share"] * on_targets
        return (face if faces else 0.0, on_targets - face)
    return (0.0,) if category in FACE_CATEGORIES and not faces else (on_targets,)


def _sources(items, category: str, faces: bool = True):
    """``(weights, items)`` of the fixation model's sources: each target with its share, the
    distractors sharing theirs equally, the centre bias last (``None`` for its item)."""
    model = FIXATION_MODEL
    shares = target_shares(category, faces)
    targets = [(share, item) for share, item in zip(shares, items) if share > 0]
    distractors = [item for share, item in zip(shares, items) if share == 0] + list(items[len(shares):])
    sources = targets + [(model["on_distractors"] / len(distractors), item) for item in distractors]
    sources.append((model["centre_bias"], None))
    weights = np.array([weight for weight, _ in sources])
    return weights / weights.sum(), [item for _, item in sources]


def sample_fixations(items, rng: np.random.Generator, size: tuple[int, int], category: str) -> np.ndarray:
    """Fixation counts ``(H, W)`` drawn from :data:`FIXATION_MODEL` for a display's items."""
    width, height = size
    model = FIXATION_MODEL
    n = model["fixations_per_image"]
    weights, sources = _sources(items, category)
    points = np.empty((n, 2))
    for i, source in enumerate(rng.choice(len(sources), size=n, p=weights)):
        if sources[source] is None:
            points[i] = rng.normal([width / 2, height / 2], [model["centre_sd"] * width, model["centre_sd"] * height])
        else:
            x, y, radius = sources[source]
            points[i] = rng.normal([x, y], model["fixation_sd"] * radius)
    cols = np.clip(np.round(points[:, 0]), 0, width - 1).astype(int)
    rows = np.clip(np.round(points[:, 1]), 0, height - 1).astype(int)
    counts = np.zeros((height, width), dtype=np.float64)
    np.add.at(counts, (rows, cols), 1.0)
    return counts


def _gaussian(size: tuple[int, int], centre, sd) -> np.ndarray:
    """A normalised 2-D Gaussian on the pixel grid (it sums to 1 over the whole plane, not the image)."""
    width, height = size
    sx, sy = (sd, sd) if np.isscalar(sd) else sd
    gx = np.exp(-0.5 * ((np.arange(width) - centre[0]) / sx) ** 2) / (math.sqrt(2 * math.pi) * sx)
    gy = np.exp(-0.5 * ((np.arange(height) - centre[1]) / sy) ** 2) / (math.sqrt(2 * math.pi) * sy)
    return gy[:, None] * gx[None, :]


def fixation_model_density(items, size: tuple[int, int], category: str, faces: bool = True) -> np.ndarray:
    """The density ``(H, W)`` that :func:`sample_fixations` draws from, summing to 1 over the image:
    the *oracle* map, the best any model can do on the sample. ``faces=False``: the same density with
    the face channel removed (a face draws no more than a distractor) — the best a model blind to
    faces could do."""
    width, height = size
    model = FIXATION_MODEL
    weights, sources = _sources(items, category, faces)
    density = np.zeros((height, width))
    for weight, source in zip(weights, sources):
        if source is None:
            density += weight * _gaussian(size, (width / 2, height / 2),
                                          (model["centre_sd"] * width, model["centre_sd"] * height))
        else:
            density += weight * _gaussian(size, source[:2], model["fixation_sd"] * source[2])
    return density / density.sum()


def all_items_map(items, size: tuple[int, int]) -> np.ndarray:
    """Every item marked equally, the singleton as one of them: a Gaussian of peak 1 and sd
    ``fixation_sd`` × radius on each item (the pixels of every item then take the same values, so
    the singleton AUC is 0.5). A baseline that finds the items, not the odd one out."""
    marked = np.zeros(size[::-1])
    for x, y, radius in items:
        sd = FIXATION_MODEL["fixation_sd"] * radius
        np.maximum(marked, _gaussian(size, (x, y), sd) * (2 * math.pi * sd * sd), out=marked)
    return marked


def fixation_density(counts: np.ndarray) -> np.ndarray:
    """The continuous map: fixation counts blurred by :data:`FIXATION_MODEL`'s Gaussian, uint8."""
    blurred = gaussian_filter(counts, sigma=FIXATION_MODEL["map_blur_sigma"] * counts.shape[1])
    return np.round(255 * blurred / blurred.max()).astype(np.uint8)


SALIENCY_LAYOUTS = ("cat2000", "salicon", "mit1003")


def write_saliency_sample(root: str | Path, images_per_category: int = 30, seed: int = 0,
                          size: tuple[int, int] = (640, 360), layout: str = "cat2000") -> Path:
    """Write the saliency sample under ``root`` in one of the real layouts, with a ``sample.json``
    manifest recording every item ``(x, y, radius)`` of each display (the singleton first) and, in
    ``truth/``, each display's known density and item labels (see :data:`TRUTH_DIR`):

    * ``"cat2000"``: ``trainSet/Stimuli|FIXATIONMAPS/<Category>/NNN.jpg``, ``FIXATIONLOCS/<Category>/NNN.mat``
      (``fixLocs``), and a decoy ``Output`` folder;
    * ``"salicon"`` (2017): ``images|maps|fixations/<train|val>/COCO_<split>2014_<id>.jpg|.png|.mat``
      with a ``gaze`` struct per observer (1-based [x, y]) — the last fifth of each category is val;
    * ``"mit1003"``: ``ALLSTIMULI/<name>.jpeg``, ``ALLFIXATIONMAPS/<name>_fixMap.jpg`` and
      ``<name>_fixPts.jpg``.
    """
    if layout not in SALIENCY_LAYOUTS:
        raise ValueError(f"layout must be one of {SALIENCY_LAYOUTS}, got {layout!r}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    manifest = {"version": SAMPLE_VERSION, "seed": seed, "images_per_category": images_per_category,
                "layout": layout, "size": list(size), "fixation_model": FIXATION_MODEL,
                "categories": CATEGORY_TESTS, "items": {}}
    truth = paths.ensure(root / TRUTH_DIR)
    for category in SALIENCY_CATEGORIES:
        for index in range(1, images_per_category + 1):
            image, items, labels = make_search_display(category, rng, size)
            counts = sample_fixations(items, rng, size, category)
            split = "val" if index > images_per_category - max(1, images_per_category // 5) else "train"
            key = _write_display(root, layout, category, index, split, image, counts, rng)
            manifest["items"][key] = [[round(v, 2) for v in item] for item in items]
            density = fixation_model_density(items, size, category)
            stem = key.replace("/", "_")
            Image.fromarray(np.round(65535 * density / density.max()).astype(np.uint16)).save(
                truth / f"{stem}_density.png")
            Image.fromarray(labels).save(truth / f"{stem}_items.png")
    if layout == "cat2000":  # the real archive carries model outputs in "Output" folders
        decoy = paths.ensure(root / "trainSet" / "Stimuli" / "Output")
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(decoy / "001.jpg")
    (root / "sample.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return root

def _write_display(root: Path, layout: str, category: str, index: int, split: str, image: np.ndarray,
                   counts: np.ndarray, rng: np.random.Generator) -> str:
    """Write one display and its ground truth in ``layout``; return its manifest key."""
    density = Image.fromarray(fixation_density(counts))
    if layout == "cat2000":
        base, name = root / "trainSet", f"{index:03d}"
        for kind in ("Stimuli", "FIXATIONMAPS", "FIXATIONLOCS"):
            paths.ensure(base / kind / category)
        Image.fromarray(image).save(base / "Stimuli" / category / f"{name}.jpg", quality=92)
        density.save(base / "FIXATIONMAPS" / category / f"{name}.jpg", quality=95)
        savemat(base / "FIXATIONLOCS" / category / f"{name}.mat", {"fixLocs": (counts > 0).astype(np.uint8)},
                do_compression=True)
        return f"{category}/{name}"
    if layout == "mit1003":
        name = f"{category}_{index:03d}"
        paths.ensure(root / "ALLSTIMULI"), paths.ensure(root / "ALLFIXATIONMAPS")
        Image.fromarray(image).save(root / "ALLSTIMULI" / f"{name}.jpeg", quality=92)
        density.save(root / "ALLFIXATIONMAPS" / f"{name}_fixMap.jpg", quality=95)
        Image.fromarray(((counts > 0) * 255).astype(np.uint8)).save(root / "ALLFIXATIONMAPS" / f"{name}_fixPts.jpg")
        return name
    number = SALIENCY_CATEGORIES.index(category) * 100_000 + index
    name = f"COCO_{split}2014_{number:012d}"
    for kind in ("images", "maps", "fixations"):
        paths.ensure(root / kind / split)
    Image.fromarray(image).save(root / "images" / split / f"{name}.jpg", quality=92)
    density.save(root / "maps" / split / f"{name}.png")
    rows, cols = np.nonzero(counts)
    order = rng.permutation(rows.size)
    observers = np.array_split(order, 3)  # the fixations, shared out among three observers
    gaze = np.zeros((len(observers),), dtype=[("location", object), ("timestamp", object), ("fixations", object)])
    for k, members in enumerate(observers):
        points = np.stack([cols[members] + 1, rows[members] + 1], axis=1).astype(float)  # 1-based [x, y]
        gaze[k] = (points, np.arange(len(members), dtype=float) * 10, points)
    savemat(root / "fixations" / split / f"{name}.mat",
            {"image": name, "resolution": np.array([image.shape[0], image.shape[1]]), "gaze": gaze})
    return name


def ensure_saliency_sample(root: str | Path | None = None, images_per_category: int = IMAGES_PER_CATEGORY,
                           seed: int | None = None) -> Path:
    """The saliency sample's folder, generated (into a temporary folder renamed at the end) when it
    is missing or was made with other settings. ``seed`` defaults to :func:`sample_seed` (the
    ``SAMPLE_SEED`` environment variable, else 0); the folder records it in ``sample.json``."""
    root = Path(root) if root is not None else saliency_sample_dir()
    seed = sample_seed() if seed is None else seed
    wanted = {"version": SAMPLE_VERSION, "seed": seed, "images_per_category": images_per_category}
    return _ensure(root, "saliency", lambda found: all(found.get(k) == v for k, v in wanted.items()),
                   lambda staging: write_saliency_sample(staging, images_per_category, seed))


# ---------------------------------------------------------------------------------------------
# Inversion sample: crops of real photographs, the test photographs never seen in training
# ---------------------------------------------------------------------------------------------

#: name → (how to load it, credit and licence): photographs that ship inside installed packages.
PHOTOGRAPHS = {
    "astronaut": ("skimage.data.astronaut", "NASA (Eileen Collins); public domain"),
    "coffee": ("skimage.data.coffee", "Rachel Michetti, courtesy of Pikolo Espresso Bar; CC0"),
    "chelsea": ("skimage.data.chelsea", "Stefan van der Walt; CC0"),
    "rocket": ("skimage.data.rocket", "SpaceX (DSCOVR launch on Falcon 9); public domain"),
    "hubble": ("skimage.data.hubble_deep_field", "NASA (Hubble eXtreme Deep Field); public domain"),
    "immunohistochemistry": ("skimage.data.immunohistochemistry", "scikit-image; no known copyright restrictions"),
    "china": ("sklearn:china.jpg", "danielbuechele on Flickr; CC BY 2.0"),
    "flower": ("sklearn:flower.jpg", "vultilion on Flickr; CC BY 2.0"),
    "grace_hopper": ("matplotlib:grace_hopper.jpg", "U.S. Navy (Grace Hopper); public domain"),
}
#: 20 ImageNet validation images that ship in the foolbox 3.3.4 wheel as ``foolbox/data/imagenet_NN_CLASS.jpg``
#: (read from the wheel; foolbox itself is not installed).
FOOLBOX = ("foolbox==3.3.4", "foolbox-3.3.4-py3-none-any.whl")
FOOLBOX_IMAGES = ("00_243", "01_559", "02_438", "03_990", "04_949", "05_853", "06_609", "07_609", "08_915", "09_455",
                  "10_541", "11_630", "12_741", "13_471", "14_129", "15_99", "16_251", "17_22", "18_317", "19_305")
FOOLBOX_CREDIT = ("ImageNet (ILSVRC 2012) validation image, as shipped in the foolbox 3.3.4 wheel (MIT licence); "
                  "ImageNet's terms: non-commercial research and education")
#: Photographs whose crops are test images only: no test image shares a photograph with a training image.
HELD_OUT_PHOTOGRAPHS = ("coffee", "rocket", "flower", "imagenet_03_990", "imagenet_08_915", "imagenet_13_471",
                        "imagenet_18_317")
INVERSION_SAMPLE_VERSION = 4


def inversion_sample_dir() -> Path:
    return paths.data_dir() / "inversion-sample"


def foolbox_images() -> dict[str, np.ndarray]:
    """The 20 ImageNet images of the foolbox wheel (fetched, checked, read; see
    :func:`helpers.downloads.wheel`), by name ``imagenet_NN_CLASS``."""
    from .downloads import wheel_member   # only here: training and scoring never fetch anything

    return {f"imagenet_{key}": np.asarray(Image.open(BytesIO(wheel_member(*FOOLBOX, f"foolbox/data/imagenet_{key}.jpg")))
                                          .convert("RGB")) for key in FOOLBOX_IMAGES}


def imagenet_class(name: str) -> int:
    """The ImageNet class index in a foolbox image's name (``imagenet_03_990`` → 990)."""
    return int(name.rsplit("_", 1)[1])


def load_photograph(name: str) -> np.ndarray:
    """One of :data:`PHOTOGRAPHS` as uint8 ``(H, W, 3)``, read from the package that ships it."""
    source, _ = PHOTOGRAPHS[name]
    if source.startswith("sklearn:"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(source.split(":", 1)[1])
    if source.startswith("matplotlib:"):
        from matplotlib import cbook

        with cbook.get_sample_data(source.split(":", 1)[1]) as handle:
            return np.asarray(Image.open(handle).convert("RGB"))
    import skimage.data  # deferred on purpose: slow to import, needed only to make the inversion sample

    return np.asarray(getattr(skimage.data, source.rsplit(".", 1)[1])())[..., :3]


def all_photographs(include_imagenet: bool = True) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``(photographs, credits)``: those shipped in packages, and foolbox's ImageNet images when the
    package index can be reached (otherwise said, and left out)."""
    photos = {name: load_photograph(name) for name in PHOTOGRAPHS}
    credits = {name: f"`{PHOTOGRAPHS[name][0]}` — {PHOTOGRAPHS[name][1]}" for name in PHOTOGRAPHS}
    if include_imagenet:
        from .downloads import DownloadError

        try:
            imagenet = foolbox_images()
        except DownloadError as error:
            print(f"inversion sample without foolbox's ImageNet images: {error}")
        else:
            photos.update(imagenet)
            credits.update({name: f"`foolbox/data/{name}.jpg` (class {imagenet_class(name)}) — {FOOLBOX_CREDIT}"
                            for name in imagenet})
    return photos, credits


def _recoloured(crop: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The crop with its hues turned by a random angle and its saturation scaled: a training crop of
    a few photographs then shows the decoder many colourings, so what it learns about colour carries
    over to photographs it has never seen."""
    hsv = np.asarray(crop.convert("HSV"), dtype=np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(0, 256)) % 256
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.6, 1.4), 0, 255)
    return Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")


def _random_crop(photo: np.ndarray, rng: np.random.Generator, size: int) -> Image.Image:
    height, width = photo.shape[:2]
    side = int(rng.uniform(0.2, 0.8) * min(height, width))
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    crop = Image.fromarray(photo[top:top + side, left:left + side])
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return crop.resize((size, size), Image.Resampling.BICUBIC)


def write_inversion_sample(root: str | Path, train_per_photo: int = 24, test_per_photo: int = 8, seed: int = 0,
                           size: int = 64, include_imagenet: bool = True) -> Path:
    """Write crops of real photographs in ImageNet's folder layout under ``root``: ``train/<photo>/*.JPEG``
    from every photograph but :data:`HELD_OUT_PHOTOGRAPHS`, ``val/<photo>/*.JPEG`` from those only — so
    the test measures reconstruction of unseen photographs, not memory of the training ones. Crops are
    ``size``² like Tiny-ImageNet's images; ``SOURCES.md`` beside them credits every photograph."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    photos, credits = all_photographs(include_imagenet)
    rows = []
    for name, photo in photos.items():
        split, count = ("val", test_per_photo) if name in HELD_OUT_PHOTOGRAPHS else ("train", train_per_photo)
        folder = paths.ensure(root / split / name)
        for index in range(count):
            crop = _random_crop(photo, rng, size)
            if split == "train" and index % 2:  # every other training crop recoloured; test crops never
                crop = _recoloured(crop, rng)
            crop.save(folder / f"{name}_{index:03d}.JPEG", quality=92)
        rows.append(f"| {name} | {'test' if split == 'val' else 'training'} | {credits[name]} |")
    (root / "SOURCES.md").write_text(
        "# Generated sample: crops of real photographs (each photograph is one class)\n\n"
        "Test crops come only from the held-out photographs: no test image shares a photograph with a training image.\n\n"
        "| photograph | used for | source, credit and licence |\n|---|---|---|\n" + "\n".join(rows) + "\n")
    manifest = {"version": INVERSION_SAMPLE_VERSION, "seed": seed, "train_per_photo": train_per_photo,
                "test_per_photo": test_per_photo, "size": size, "photographs": sorted(photos),
                "held_out": sorted(set(HELD_OUT_PHOTOGRAPHS) & set(photos))}
    (root / "sample.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return root


#: What a sample's ``sample.json`` says it is: a folder is replaced only when its manifest says so.
SAMPLE_KINDS = {"saliency": "saliency sample", "inversion": "inversion sample"}


class SampleFolderError(OSError):
    """A sample cannot be written where it was asked for (the message names the folder and why)."""


def default_sample_dir(kind: str) -> Path:
    """Where a sample of ``kind`` ("saliency" or "inversion") lives unless a folder is named."""
    return saliency_sample_dir() if kind == "saliency" else inversion_sample_dir()


def made_here(root: Path) -> dict | None:
    """The manifest of a sample this project generated in ``root``, or ``None`` when ``root`` holds
    none (its ``sample.json`` is what marks a folder as the project's own, to replace at will)."""
    manifest = Path(root) / "sample.json"
    try:
        found = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and "version" in found and "seed" in found else None


def _ensure(root: Path, kind: str, manifest_matches, write) -> Path:
    """Generate a sample into a temporary folder moved onto ``root`` unless its manifest matches.

    Only a folder the project made is ever replaced: ``root`` must be missing, empty, or hold a
    ``sample.json`` of this kind of sample (:func:`made_here`). Anything else — a user's data set, a
    folder of notes — is refused with a :class:`SampleFolderError` naming it, and nothing is written."""
    root = Path(root)
    restore_set_aside(root)
    found = made_here(root)
    if found is not None and found.get("kind", kind) != kind:
        raise SampleFolderError(f"{root}: holds the generated {SAMPLE_KINDS.get(found['kind'], found['kind'])}, "
                                f"not the {SAMPLE_KINDS[kind]}; give each sample its own folder")
    if found is not None and manifest_matches(found):
        return root
    if root.is_symlink() or root.is_file():
        raise SampleFolderError(f"{root}: is {'a symbolic link' if root.is_symlink() else 'a file'}, not a folder "
                                f"the {SAMPLE_KINDS[kind]} can be written to; nothing was written")
    if found is None and root.is_dir() and any(root.iterdir()):
        raise SampleFolderError(
            f"{root}: this folder holds files the project did not generate (no sample.json of its own), so the "
            f"{SAMPLE_KINDS[kind]} is not written there and nothing in it is touched. Leave DATA_DIR empty (the "
            f"sample lives in {default_sample_dir(kind)}), "
            "or name a new or empty folder")
    try:
        with staging_dir(root) as staging:
            write(staging)
            manifest = staging / "sample.json"
            manifest.write_text(json.dumps({"kind": kind, **json.loads(manifest.read_text())}, indent=1) + "\n")
            replace_dir(staging, root)
    except OSError as error:
        raise SampleFolderError(f"{root}: the {SAMPLE_KINDS[kind]} could not be written there "
                                f"({error.strerror or error}); point SALIENCY_DATA_DIR (DATA_DIR) at a writable folder, "
                                "or generate the sample once where it can be written") from None
    return root


def ensure_inversion_sample(root: str | Path | None = None, train_per_photo: int = 24,
                            test_per_photo: int = 8, seed: int = 0) -> Path:
    """The inversion sample's folder, generated when missing or made with other settings (or without
    foolbox's ImageNet images, which a later run with the package index in reach adds)."""
    root = Path(root) if root is not None else inversion_sample_dir()
    wanted = {"version": INVERSION_SAMPLE_VERSION, "seed": seed, "train_per_photo": train_per_photo,
              "test_per_photo": test_per_photo}
    complete = lambda found: len(found.get("photographs", [])) == len(PHOTOGRAPHS) + len(FOOLBOX_IMAGES)  # noqa: E731
    return _ensure(root, "inversion", lambda found: all(found.get(k) == v for k, v in wanted.items()) and complete(found),
                   lambda staging: write_inversion_sample(staging, train_per_photo, test_per_photo, seed))
