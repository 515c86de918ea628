"""Progress bars that suit where the code runs: widgets in JupyterLab, text in a terminal, none in a headless
kernel (papermill, nbconvert, ``SALIENCY_PROGRESS_BARS=0``), whose captured output would keep every redraw.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from tqdm import std
from tqdm.auto import tqdm as auto_tqdm

#: Programs that run notebooks with no front end to draw a widget.
HEADLESS_DRIVERS = ("papermill", "nbconvert", "nbclient", "pytest", "helpers.pipeline")


def parent_command() -> str:
    """The command line of this process' parent ("" where it cannot be read)."""
    try:
        return Path(f"/proc/{os.getppid()}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def widgets_shown() -> bool:
    """Whether a progress widget would be seen: inside a Jupyter kernel that no headless driver started."""
    chosen = os.environ.get("SALIENCY_PROGRESS", "")
    if chosen in ("text", "widget"):
        return chosen == "widget"
    if "ipykernel" not in sys.modules:
        return False
    command = parent_command()
    return not any(driver in command for driver in HEADLESS_DRIVERS)


def bars_drawn() -> bool:
    """Whether a bar would be drawn rather than captured line by line: not in a kernel no front end
    shows, and not where ``SALIENCY_PROGRESS_BARS=0``."""
    if os.environ.get("SALIENCY_PROGRESS_BARS", "1") == "0":
        return False
    return widgets_shown() or "ipykernel" not in sys.modules or os.environ.get("SALIENCY_PROGRESS") == "text"


def tqdm(*args, **kwargs):
    """A progress bar: ``tqdm.auto``'s widget where one is shown, a text bar otherwise, none where
    it would only be captured (:func:`bars_drawn`)."""
    if not bars_drawn():
        kwargs["disable"] = True
    return (auto_tqdm if widgets_shown() else std.tqdm)(*args, **kwargs)
