"""Progress bars that suit where the code runs: widgets in JupyterLab, text everywhere else.

``tqdm.auto`` draws a widget whenever the code runs in a Jupyter kernel — also when papermill or
nbconvert drive that kernel with no front end attached, where the widget never updates and
``papermill --log-output`` prints a frozen ``epoch 1: 0%|`` line. :func:`tqdm` draws text there
instead: a kernel started by papermill, nbconvert, nbclient, pytest or ``helpers.pipeline`` has one of
them as its parent process. ``SALIENCY_PROGRESS=text`` or ``=widget`` decides it by hand.

In such a headless kernel a text bar is no better: its output is captured, not drawn, so every
redraw becomes a line of its own ("checking the data" twice, and more for long bars). There — and
wherever ``SALIENCY_PROGRESS_BARS=0`` (``helpers.pipeline`` sets it) — bars are off; the training
loop still prints one line per epoch.
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
