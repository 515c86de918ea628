"""Settings profiles: every training notebook's ``PROFILE`` parameter, and ``make run PROFILE=...``.

A profile is a named set of overrides of the specs' fields (:mod:`helpers.spec`), one set per
group of notebooks:

* ``"assignment"`` (the default): no overrides — the specs' defaults, the assignment's Table 2
  (saliency) and Table 5 (inversion).
* ``"smoke"``: quick settings that run every notebook on a 2-core CPU in minutes, on the generated
  samples: fewer images, fewer epochs, smaller inputs, and for SalNet Adam instead of SGD (Table
  2's SGD at 1e-4 barely moves in a few hundred steps). Part 1's loss, learning rate and number of
  epochs were chosen on the **validation** displays by ``benchmarks/smoke_choices.py``
  (``docs/results/smoke_choices.json``, which ``tests/test_profiles.py`` holds this file to): the
  maps' KL divergence for both networks (under MSE SalNet stays near the centre bias). Every network trains
  under bf16 autocast where the CPU computes bf16 itself (``avx512_bf16`` or AMX: 1.5–1.8× faster,
  the same loss curve — ``tests/test_training.py`` compares them); elsewhere in float32.

A value you set yourself always wins: the profile fills only the parameters left at ``None``
(:meth:`helpers.spec.Spec.from_values`).
"""
from __future__ import annotations

from .parallel import cpu_computes_bf16

#: bf16 autocast in the smoke profile only where it is faster than float32 (see cpu_computes_bf16).
FAST_BF16 = {"mixed_precision": True} if cpu_computes_bf16() else {}

#: group → field → value. The groups: ``saliency`` (notebook 01's SalNet), ``contrast`` (its second
#: model), ``inversion`` (notebooks 03–06) and ``comparison`` (notebook 07's second part).
SMOKE = {
    "saliency": {"require_real_data": False, "whole_dataset": 320, "epochs": 3, "optimizer": "adam", "learning_rate": 3e-4,
                 "image_size": (96, 128), "loss": "kld", **FAST_BF16},
    "contrast": {"require_real_data": False, "whole_dataset": 320, "epochs": 5, "learning_rate": 3e-3, "loss": "kld",
                 "image_size": (192, 256), **FAST_BF16},
    "inversion": {"require_real_data": False, "whole_dataset": 144, "epochs": 4, "batch_size": 16, "lr_step": 3,
                  **FAST_BF16},
    "comparison": {"require_real_data": False, "whole_dataset": 300, "image_size": 128, "epochs": 4, "batch_size": 16,
                   "lr_step": 3, **FAST_BF16},
}
PROFILES = {"assignment": {}, "smoke": SMOKE}
#: Why a profile sets what it sets, said once per notebook group (a saliency reason in a layer notebook
#: would only confuse).
REASONS = {
    "assignment": {},
    "smoke": {"saliency": "quick settings for a CPU in minutes on the sample (Adam instead of Table 2's SGD, which "
                          "barely moves in so few steps; the loss, learning rate and epochs chosen on the validation "
                          "displays: the KL divergence of the maps, under which SalNet leaves the centre bias behind — "
                          "see docs/part1-sample.md)",
              "contrast": "the second model at 192×256, where its ImageNet front end still sees the items' shapes; "
                          "its loss, learning rate and epochs chosen on the validation displays",
              "inversion": "quick settings for a CPU in minutes on the sample (fewer images and epochs, batch 16)",
              "comparison": "quick settings for a CPU in minutes on the sample (300 images at 128², 4 epochs)"},
}


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"PROFILE must be one of {sorted(PROFILES)}, got {profile!r}")
    return profile


def profile_overrides(profile: str, group: str) -> dict:
    """The fields ``profile`` sets for the notebooks of ``group`` (an empty dict for none)."""
    return dict(PROFILES[check_profile(profile)].get(group, {}))


def profile_reason(profile: str, group: str) -> str:
    """Why ``profile`` sets what it does for ``group``, and how to get the tables back."""
    reason = REASONS[check_profile(profile)].get(group, "")
    if profile == "smoke":
        reason += "; bf16 autocast where the CPU has bf16 instructions of its own (1.5–1.8× faster, the same loss curve)"
    return (reason + "; " if reason else "") + "PROFILE = 'assignment' gives Tables 2 and 5"
