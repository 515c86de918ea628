"""Settings profiles: every notebook's ``PROFILE`` parameter, and ``make run PROFILE=...``.

* ``"assignment"`` (every notebook's default): the notebooks' own defaults — the assignment's
  Table 2 (saliency) and Table 5 (inversion).
* ``"smoke"``: quick settings that run every notebook on a 2-core CPU in minutes, on the generated
  samples: fewer images, fewer epochs, smaller inputs, and for notebook 01 Adam instead of SGD
  (Table 2's SGD at 1e-4 barely moves in a few hundred steps).

A profile changes only the settings a notebook still has at their defaults, so a value set by hand
(in JupyterLab, or ``-p EPOCHS 3`` with papermill) always wins. :func:`apply_profile` is called by
each notebook right after its parameters; the headless runner only passes ``PROFILE``.
"""
from __future__ import annotations

import ast
from functools import lru_cache

from . import paths

#: Which notebook's parameters cell holds the defaults of each group of notebooks.
GROUPS = {"saliency_model": "01_saliency_model", "judd_auc_evaluation": "02_judd_auc_evaluation",
          "invert_layer": "03_invert_conv2", "inversion_summary": "07_inversion_summary"}

SMOKE = {
    "saliency_model": {"WholeDataset": 320, "EPOCHS": 4, "OPTIMIZER": "adam", "LEARNING_RATE": 3e-4,
                       "IMAGE_SIZE": [96, 128], "SECOND_MODEL_EPOCHS": 12, "SECOND_MODEL_IMAGE_SIZE": [192, 256]},
    "invert_layer": {"WholeDataset": 144, "EPOCHS": 4, "BATCH_SIZE": 16, "LR_STEP": 3},
    "inversion_summary": {"COMPARE_WholeDataset": 300, "COMPARE_IMAGE_SIZE": 128, "EPOCHS": 4, "BATCH_SIZE": 16,
                          "LR_STEP": 3},
}
WHY = {"smoke": "quick settings for a CPU in minutes (the sample data; Adam instead of Table 2's SGD, which "
                "barely moves in so few steps; the second saliency model at 192×256, where its ImageNet front end "
                "still sees the items' shapes); PROFILE = 'assignment' gives Tables 2 and 5"}
PROFILES = {"assignment": {}, "smoke": SMOKE}


@lru_cache(maxsize=None)
def notebook_defaults(group: str) -> dict:
    """The defaults written in the parameters cell of the group's notebook, as Python values."""
    import papermill

    declared = papermill.inspect_notebook(str(paths.NOTEBOOKS / f"{GROUPS[group]}.ipynb"))
    return {name: ast.literal_eval(spec["default"]) for name, spec in declared.items()}


def apply_profile(profile: str, group: str, namespace: dict) -> dict:
    """Set the ``profile``'s values for notebook ``group`` in ``namespace`` (a notebook's ``globals()``),
    for every setting still at its default; print and return what changed."""
    if profile not in PROFILES:
        raise ValueError(f"PROFILE must be one of {sorted(PROFILES)}, got {profile!r}")
    if group not in GROUPS:
        raise ValueError(f"unknown notebook group {group!r}; expected one of {sorted(GROUPS)}")
    defaults, changed, kept = notebook_defaults(group), {}, []
    for name, value in PROFILES[profile].get(group, {}).items():
        if namespace.get(name) == defaults[name]:
            namespace[name] = changed[name] = value
        else:
            kept.append(name)
    if changed:
        print(f"PROFILE = {profile!r}: " + ", ".join(f"{name} = {value!r}" for name, value in changed.items())
              + f" — {WHY[profile]}" + (f"; set by hand, kept: {', '.join(kept)}" if kept else ""))
    else:
        print(f"PROFILE = {profile!r}: the notebook's own settings")
    return changed
