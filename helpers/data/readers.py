"""Reading the files of the real data sets: images, fixation maps and fixation locations.

Every reader raises :class:`DataError` naming the file when it is missing or not in the expected
format, and :func:`check_same_frame` stops a fixation map that cannot belong to its stimulus.
"""
from __future__ import annotations

import struct
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.io import loadmat

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def listed(folder: Path, suffixes: set[str] | None = IMAGE_SUFFIXES, folders: bool = False) -> list[Path]:
    """What a data set's folder holds, the one rule for every layout: sorted; hidden names (``.x``)
    and the ``._x`` files macOS leaves beside copied files are skipped; only sub-folders when
    ``folders``, else only files whose suffix (any case) is in ``suffixes`` (``None``: any)."""
    entries = (p for p in Path(folder).iterdir() if not p.name.startswith("."))
    if folders:
        return sorted(p for p in entries if p.is_dir())
    return sorted(p for p in entries if p.is_file() and (suffixes is None or p.suffix.lower() in suffixes))


class DataError(ValueError):
    """A data file is missing, unreadable or not in the expected format (the message names it)."""


@contextmanager
def image_errors(path: Path, problem: str = "not a readable image") -> Iterator[None]:
    """Pillow's errors while opening or decoding ``path`` as a :class:`DataError` naming the file:
    "file not found", else ``problem`` and Pillow's reason."""
    try:
        yield
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: {problem} ({exc})") from exc


def _open_image(path: Path, draft_size: tuple[int, int] | None = None) -> Image.Image:
    with image_errors(path):
        image = Image.open(path)
        if draft_size is not None and image.format == "JPEG":
            # The request follows the stored orientation (EXIF rotation comes later).
            long_side, short_side = max(draft_size), min(draft_size)
            landscape = image.width >= image.height
            image.draft(image.mode, (long_side, short_side) if landscape else (short_side, long_side))
        image.load()
    return image


#: Pillow's modes of one channel of more than 8 bits (a 16-bit grayscale PNG opens as ``I;16``).
WIDE_GRAY_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def eight_bit(image: Image.Image, path: Path) -> Image.Image:
    """A 16-bit grayscale image scaled to 8 bits (``round(v × 255 / 65535)``), as every image tool
    shows it; Pillow's own conversion clips every value above 255 to white. Other modes as they are."""
    if image.mode not in WIDE_GRAY_MODES:
        return image
    values = np.asarray(image, dtype=np.float64)
    if values.size and (values.min() < 0 or values.max() > 65535):
        raise DataError(f"{path}: a {image.mode} image with values outside 0–65535 ({values.min():g} to "
                        f"{values.max():g}); expected 8- or 16-bit pixels")
    scaled = Image.fromarray(np.round(values * (255 / 65535)).astype(np.uint8), mode="L")
    scaled.info = dict(image.info)
    if hasattr(image, "getexif"):
        scaled.info["exif"] = image.getexif().tobytes()
    return scaled


def _stored_and_displayed_size(path: Path) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(width, height)`` as stored and as displayed (EXIF rotation applied), from the header only."""
    with image_errors(path), Image.open(path) as image:
        rotated = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        return image.size, ((image.height, image.width) if rotated else image.size)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info)


def load_rgb(path: str | Path, expected_size: tuple[int, int] | None = None,
             draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Open an image as RGB (grayscale, CMYK and palette images are converted), EXIF rotation honoured.

    ``expected_size`` is the ``(width, height)`` of the matching fixation map: a stimulus whose EXIF
    rotation would make it disagree with its map carries a wrong tag (CAT2000's ``Pattern/134.jpg``),
    so the tag is ignored with a warning. ``draft_size`` lets the JPEG decoder downscale by a power
    of two while staying at least that large (a large speed-up before a resize). An alpha channel is
    dropped with a warning: people saw the colour channels.
    """
    path = Path(path)
    image = eight_bit(_open_image(path, draft_size), path)
    rotated = ImageOps.exif_transpose(image)
    if expected_size is not None and rotated.size != image.size:
        if same_aspect(image.size, expected_size) and not same_aspect(rotated.size, expected_size):
            warnings.warn(f"{path}: EXIF orientation disagrees with its fixation map; tag ignored",
                          stacklevel=2)
            rotated = image
    if _has_alpha(rotated):
        warnings.warn(f"{path}: has an alpha channel ({rotated.mode}); it is dropped and the colour "
                      "channels are used as they are", stacklevel=2)
    return rotated.convert("RGB")


def same_aspect(a: tuple[int, int], b: tuple[int, int], tolerance: float = 0.02) -> bool:
    """Whether two ``(width, height)`` sizes have the same aspect ratio (within 2 %); an empty size
    (a side of 0) has none, and matches nothing."""
    if min(a) <= 0 or min(b) <= 0:
        return False
    return abs(a[0] / a[1] - b[0] / b[1]) <= tolerance * (b[0] / b[1])


def check_same_frame(stimulus: str | Path, other: str | Path, what: str,
                     other_size: tuple[int, int] | None = None) -> None:
    """Stop when ``other`` (a fixation map or fixation locations of ``other_size``, ``(width, height)``;
    read from ``other``'s image header when not given) cannot be of the same picture as ``stimulus``:
    another aspect ratio, or the stimulus transposed. Images are read from their headers only (as
    stored or as their EXIF tag rotates them)."""
    stored, displayed = _stored_and_displayed_size(Path(stimulus))
    if other_size is None:
        other_size = _stored_and_displayed_size(Path(other))[1]
    if min(other_size) <= 0:
        raise DataError(f"{other}: {what} of {other_size[0]}×{other_size[1]} (width×height), an empty frame; "
                        f"its stimulus {stimulus} is {displayed[0]}×{displayed[1]}")
    if same_aspect(stored, other_size) or same_aspect(displayed, other_size):
        return
    hint = " — its rows and columns look swapped (transposed)" if tuple(other_size) == displayed[::-1] else ""
    raise DataError(f"{other}: {what} of {other_size[0]}×{other_size[1]} (width×height), but its stimulus "
                    f"{stimulus} is {displayed[0]}×{displayed[1]}; they must show the same frame{hint}")


def load_gray(path: str | Path, draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Open an image as 8-bit grayscale (``L``; 16-bit images scaled, not clipped); ``draft_size`` as
    for :func:`load_rgb`."""
    return ImageOps.exif_transpose(eight_bit(_open_image(Path(path), draft_size), Path(path))).convert("L")


def load_mat(path: Path, **options) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: fixation file not found")
    try:
        return loadmat(path, **options)
    except Exception as exc:  # scipy raises several types for a damaged or HDF5 (v7.3) file
        raise DataError(f"{path}: not a readable MATLAB file ({exc})") from exc


_MAT_CLASSES = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double", 7: "single", 8: "int8",
                9: "uint8", 10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64"}


def mat_variables(path: str | Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """``{name: (shape, MATLAB class)}`` of a MATLAB 5 file's variables, from their headers alone: a
    compressed variable is inflated only as far as its header (a few hundred bytes), so checking a
    1920×1080 ``fixLocs`` costs a fraction of a millisecond instead of reading 2 MB. A file that is
    not a MATLAB 5 file (a damaged one, or a v7.3 HDF5 file) is a :class:`DataError`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: fixation file not found")
    data = path.read_bytes()
    if len(data) < 128 or data[126:128] not in (b"IM", b"MI"):
        raise DataError(f"{path}: not a readable MATLAB file (no MATLAB 5 header; v7.3/HDF5 files are not read)")
    order = "<" if data[126:128] == b"IM" else ">"
    variables, position = {}, 128
    try:
        while position + 8 <= len(data):
            kind, size = struct.unpack_from(order + "II", data, position)
            body = data[position + 8:position + 8 + size]
            if len(body) < size:
                raise ValueError(f"an element of {size} bytes is cut short at byte {len(data)}")
            if kind == 15:  # miCOMPRESSED: the variable is a zlib stream of a miMATRIX element
                body = zlib.decompressobj().decompress(body, 1024)
                kind, _ = struct.unpack_from(order + "II", body, 0)
                body = body[8:]
            if kind == 14:  # miMATRIX: array flags, dimensions, name
                name, shape, matlab_class = _matrix_header(body, order)
                variables[name] = (shape, matlab_class)
            position += 8 + size + (-size % 8 if kind != 15 else 0)
    except (struct.error, zlib.error, ValueError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable MATLAB file ({error})") from None
    return variables


def _matrix_header(body: bytes, order: str) -> tuple[str, tuple[int, ...], str]:
    flags = struct.unpack_from(order + "I", body, 8)[0]
    _, dims_bytes = struct.unpack_from(order + "II", body, 16)
    shape = struct.unpack_from(order + "i" * (dims_bytes // 4), body, 24)
    at = 24 + dims_bytes + (-dims_bytes % 8)
    kind, size = struct.unpack_from(order + "II", body, at)
    if kind >> 16:  # the small element format: size and type in one word, the name in the next four bytes
        size, name = kind >> 16, body[at + 4:at + 4 + (kind >> 16)]
    else:
        name = body[at + 8:at + 8 + size]
    return name.decode("ascii"), tuple(shape), _MAT_CLASSES.get(flags & 0xFF, "unknown")


def _fixlocs(path: Path, variable: str = "fixLocs") -> np.ndarray:
    """CAT2000's ``fixLocs``: a binary map in a MATLAB file."""
    contents = load_mat(path)
    if variable not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise DataError(f"{path}: expected a variable {variable!r}, found {found}")
    fixations = np.asarray(contents[variable])
    if fixations.ndim != 2:
        raise DataError(f"{path}: {variable!r} should be a 2-D map, got shape {fixations.shape}")
    return fixations > 0


def _fixlocs_shape(path: Path) -> tuple[int, ...]:
    """``fixLocs``' shape from the MATLAB headers alone (a fraction of a millisecond for 1920×1080)."""
    variables = mat_variables(path)
    if "fixLocs" not in variables or len(variables["fixLocs"][0]) != 2:
        raise DataError(f"{path}: expected a 2-D variable 'fixLocs', found {variables}")
    return variables["fixLocs"][0]


def _fixlocs_nan(path: Path) -> str:
    raw = np.asarray(load_mat(path).get("fixLocs", np.zeros(0)))
    if np.issubdtype(raw.dtype, np.floating) and np.isnan(raw).any():
        return f"{path}: its fixLocs holds NaN values (counted as not fixated)"
    return ""


@dataclass(frozen=True)
class FixationFormat:
    """How a data set stores its fixations, and everything the project reads of them — the one place
    a format is told apart (a layout record, :class:`helpers.data.Layout`, names its format)."""

    name: str
    read: Callable[[Path], np.ndarray]                          # every observer together, (H, W) bool
    observers: Callable[[Path], list] | None = None             # one map per observer, where the format keeps them
    header_shape: Callable[[Path], tuple[int, ...]] | None = None  # (H, W) without reading the data
    problem: Callable[[Path], str] | None = None                # why some values count for nothing ("" if none)


#: The formats: CAT2000's ``fixLocs`` (binary map in a .mat), SALICON's ``gaze`` struct (.mat, 1-based
#: [x, y] per observer), MIT1003's ``fixPts`` (binary points as a JPEG).
FIXATION_FORMATS = {fmt.name: fmt for fmt in (
    FixationFormat("fixLocs", _fixlocs, header_shape=_fixlocs_shape, problem=_fixlocs_nan),
    FixationFormat("salicon", lambda path: load_salicon_fixations(path), observers=lambda path: load_salicon_observers(path)),
    FixationFormat("fixPts", lambda path: np.asarray(load_gray(path)) > 127),  # JPEG artefacts undone
)}


def format_named(name: str) -> FixationFormat:
    """The :class:`FixationFormat` called ``name``; an unknown name is an error listing the formats."""
    if name not in FIXATION_FORMATS:
        raise ValueError(f"fixation_format must be one of {tuple(FIXATION_FORMATS)}, got {name!r}")
    return FIXATION_FORMATS[name]


def load_fixations(path: str | Path, variable: str = "fixLocs", fixation_format: str = "fixLocs") -> np.ndarray:
    """Binary fixation locations ``(H, W)`` bool, from any of :data:`FIXATION_FORMATS`; by default a
    MATLAB file holding CAT2000's ``fixLocs``."""
    if fixation_format == "fixLocs":
        return _fixlocs(Path(path), variable)
    return format_named(fixation_format).read(Path(path))


def load_salicon_fixations(path: str | Path) -> np.ndarray:
    """SALICON 2017 fixations of all observers together (see :func:`load_salicon_observers`)."""
    observers = load_salicon_observers(path)
    return np.logical_or.reduce(observers) if len(observers) > 1 else observers[0]


def load_salicon_observers(path: str | Path) -> list[np.ndarray]:
    """SALICON 2017 fixations, one binary map ``(H, W)`` per observer: a ``gaze`` struct per observer
    whose ``fixations`` are 1-based ``[x, y]`` rows; the map size comes from ``resolution`` ([height, width])."""
    path = Path(path)
    contents = load_mat(path, squeeze_me=True, struct_as_record=False)
    if "gaze" not in contents or "resolution" not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise DataError(f"{path}: expected SALICON's 'gaze' and 'resolution' variables, found {found}")
    height, width = (int(v) for v in np.atleast_1d(contents["resolution"])[:2])
    if height < 1 or width < 1:
        raise DataError(f"{path}: its resolution is {height}×{width} (height×width); expected a frame of at least 1×1")
    observers, dropped = [], {"not a number": 0, "outside the frame": 0}
    for observer in np.atleast_1d(contents["gaze"]):
        fixations = np.zeros((height, width), dtype=bool)
        points = np.asarray(observer.fixations, dtype=float)
        points = points.reshape(-1, 2) if points.size else np.zeros((0, 2))
        finite = np.isfinite(points).all(axis=1)
        dropped["not a number"] += int((~finite).sum())
        cols, rows = np.round(points[finite, 0]).astype(int) - 1, np.round(points[finite, 1]).astype(int) - 1
        inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
        dropped["outside the frame"] += int((~inside).sum())
        fixations[rows[inside], cols[inside]] = True
        observers.append(fixations)
    if any(dropped.values()):
        what = " and ".join(f"{count} {why}" for why, count in dropped.items() if count)
        warnings.warn(f"{path}: {what} (of {width}×{height}) among its fixations; those are left out", stacklevel=2)
    return observers or [np.zeros((height, width), dtype=bool)]
