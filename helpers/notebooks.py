"""The notebooks by what they are, not by their number: each declares its role in its metadata; the pipeline
runs them in the order of :data:`ROLES`, and every message names a notebook through :func:`describe`.
Standard library only.
"""
from __future__ import annotations

import json
from pathlib import Path

from . import paths

#: The roles, in the order the pipeline runs them: what each notebook does.
ROLES = {
    "saliency-training": "trains the saliency networks (Part 1)",
    "saliency-evaluation": "scores them with the Judd AUC and the other metrics",
    "layer": "trains a decoder for one layer of a frozen encoder (Part 2)",
    "layer-summary": "compares every trained layer, and trained against random weights",
}
#: Where a notebook keeps its role: ``metadata["project"]["role"]``.
METADATA_KEY = "project"


class NotebookRoleError(ValueError):
    """A notebook declares a role the project does not know (the message names it and the roles)."""


def role(notebook: Path) -> str | None:
    """The role ``notebook`` declares in its metadata, or ``None`` (a notebook of the user's own)."""
    declared = json.loads(Path(notebook).read_text(encoding="utf-8")).get("metadata", {}).get(METADATA_KEY, {})
    found = declared.get("role") if isinstance(declared, dict) else None
    if found is not None and found not in ROLES:
        raise NotebookRoleError(f"{notebook}: its role {found!r} is not one of {list(ROLES)}")
    return found


def ordered(folder: Path | None = None) -> list[Path]:
    """The notebooks of ``folder`` in the order they run: by role (:data:`ROLES`; a notebook without
    one first), then by name."""
    rank = {name: index + 1 for index, name in enumerate(ROLES)}
    found = [(rank.get(role(path), 0), path.name, path) for path in Path(folder or paths.NOTEBOOKS).glob("*.ipynb")]
    return [path for _, _, path in sorted(found)]


def with_role(wanted: str, folder: Path | None = None) -> list[Path]:
    """The notebooks of ``folder`` that declare the role ``wanted``, in the order they run."""
    if wanted not in ROLES:
        raise NotebookRoleError(f"no role {wanted!r}; the roles are {list(ROLES)}")
    return [path for path in ordered(folder) if role(path) == wanted]


def describe(wanted: str, folder: Path | None = None) -> str:
    """How a message names the notebook(s) of a role: ``notebook 07_inversion_summary`` or ``the layer
    notebooks (03_invert_conv2, 04_invert_conv5, …)``; the role's words when none declares it."""
    found = [path.stem for path in with_role(wanted, folder)]
    if len(found) == 1:
        return f"notebook {found[0]}"
    if found:
        return f"the {wanted.replace('-', ' ')} notebooks ({', '.join(found)})"
    return f"the notebook that {ROLES[wanted]}"
