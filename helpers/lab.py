"""Open JupyterLab on the repository with the project's kernel: ``make lab`` (``python -m helpers.lab``).

JupyterLab refuses to start as root without ``--allow-root``; containers and many GPU clouds run as
root, so there the flag is added, and said.
"""
from __future__ import annotations

import os
import shutil
import sys

from . import paths
from .pipeline import ensure_kernel


def lab_arguments(extra: list[str], as_root: bool) -> list[str]:
    """The ``jupyter lab`` command line: the repository as its folder, plus ``--allow-root`` as root."""
    jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or "jupyter"
    return [jupyter, "lab", f"--notebook-dir={paths.ROOT}", *(["--allow-root"] if as_root else []), *extra]


def main(argv: list[str] | None = None) -> None:
    ensure_kernel()
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        print("make lab: running as root (uid 0), as in many containers; passing --allow-root to JupyterLab",
              flush=True)
    arguments = lab_arguments(list(sys.argv[1:] if argv is None else argv), as_root)
    os.execv(arguments[0], arguments)


if __name__ == "__main__":
    main()
