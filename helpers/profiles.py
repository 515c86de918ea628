"""``PROFILE``: named overrides of the specs' fields. ``"assignment"`` changes nothing (Tables 2 and 5);
``"smoke"`` runs every notebook on the samples in minutes on a CPU (Part 1's loss, rate and epochs chosen on the
validation displays: ``docs/results/smoke_choices.json``); ``"ci"`` is the notebook tests' token scale. A value
you set yourself always wins.
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
#: The notebook tests' scale (``make test``; ``make run PROFILE=ci`` runs it too): every notebook runs end to
#: end, writing every figure and record, while only the second saliency model — whose bars on the sample
#: the notebook test asserts — keeps its smoke settings. SalNet trains one epoch at 32×48, each AlexNet
#: decoder and each of notebook 07's comparison decoders one epoch on 60 images: enough to check that they
#: train, are scored and are labelled, not what they learn. ``tests/test_claims.py`` asserts the other
#: claims at the smoke settings they were measured with, through the same recipes.
CI = {
    "saliency": {**SMOKE["saliency"], "epochs": 1, "image_size": (32, 48)},
    "contrast": SMOKE["contrast"],
    "inversion": {**SMOKE["inversion"], "whole_dataset": 60, "epochs": 1},
    "comparison": {**SMOKE["comparison"], "whole_dataset": 60, "image_size": 64, "epochs": 1},
}
PROFILES = {"assignment": {}, "smoke": SMOKE, "ci": CI}
#: What every label of a token run says: a network trained with the ci profile's own settings.
TOKEN_RUN = "ci profile: a token epoch, not a result"

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
    "ci": {"saliency": "the notebook tests' scale: one epoch at 32×48, to check that SalNet trains, is scored "
                       "and labelled, not what it learns",
           "contrast": "the smoke settings, which the second model's bars on the sample were measured with",
           "inversion": "the notebook tests' scale: one epoch on 60 images, to check that each decoder trains, is "
                        "scored and labelled, not what it learns",
           "comparison": "the notebook tests' scale: one epoch on 60 images at 64², to check that every decoder "
                         "of the comparison trains, is scored and labelled, not what it learns"},
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
    if profile in ("smoke", "ci"):
        reason += "; bf16 autocast where the CPU has bf16 instructions of its own (1.5–1.8× faster, the same loss curve)"
    return (reason + "; " if reason else "") + "PROFILE = 'assignment' gives Tables 2 and 5"


#: Fields a profile may set that depend on the machine, not on the run's purpose (bf16 where the CPU has it).
_MACHINE_FIELDS = ("mixed_precision",)


def profile_of(spec, group: str) -> str | None:
    """The profile whose settings for ``group`` a (stored) spec has — every field any profile sets for
    it equal to that profile's value, or to the spec's default where that profile leaves it — or
    ``None`` where the settings were chosen by hand. What a report calls a run."""
    fields = {f for name in PROFILES for f in PROFILES[name].get(group, {})} - set(_MACHINE_FIELDS)
    defaults = type(spec)()
    for name in PROFILES:
        wanted = {f: PROFILES[name].get(group, {}).get(f, getattr(defaults, f)) for f in fields}
        if all(_same(getattr(spec, f), value) for f, value in wanted.items()):
            return name
    return None


def _same(a, b) -> bool:
    return (list(a) if isinstance(a, (list, tuple)) else a) == (list(b) if isinstance(b, (list, tuple)) else b)
