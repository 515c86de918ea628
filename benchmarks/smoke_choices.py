"""The smoke profile's Part 1 choices, made on the validation displays only.

    python benchmarks/smoke_choices.py      # about 30 minutes on 2 CPU cores

For each of notebook 01's networks on the generated sample (seed 0), every candidate setting — the
loss and the learning rate — is trained for up to ``MAX_EPOCHS`` epochs, and its mean AUC-Judd on the
**validation** displays is read after every epoch (what notebook 01 prints; the training never sees
them, and the test displays are never read here). The choice is the setting and the number of epochs
with the highest validation AUC-Judd (fewer epochs on a tie). AUC-Judd is the assignment's metric and
the one every data set has.

Writes ``docs/results/smoke_choices.json``: every candidate's validation scores by epoch and the
choice. ``helpers/profiles.py``'s smoke profile takes exactly those values, and
``tests/test_profiles.py`` checks that the two agree.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import profiles, saliency  # noqa: E402
from helpers.io import write_json_atomic  # noqa: E402
from helpers.spec import ContrastSpec, SaliencySpec  # noqa: E402

RESULTS = ROOT / "docs" / "results" / "smoke_choices.json"
CRITERION = "AUC-Judd"
#: Per profile group: the spec, the values tried for each setting, and the most epochs tried.
GRID = {
    "saliency": (SaliencySpec, {"loss": ("mse", "kld"), "learning_rate": (1e-4, 3e-4, 1e-3)}, 6),
    "contrast": (ContrastSpec, {"loss": ("mse", "kld"), "learning_rate": (1e-3, 3e-3)}, 12),
}


def candidates(group: str) -> list[dict]:
    """Every combination of the group's grid, as spec fields."""
    _, grid, _ = GRID[group]
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def choose(tried: list[dict]) -> dict:
    """The setting and epoch count with the highest validation score (fewer epochs, then the earlier
    candidate, on a tie): ``{"setting", "epochs", CRITERION}``."""
    best = None
    for candidate in tried:
        for epoch, score in enumerate(candidate["validation"][CRITERION], start=1):
            if best is None or score > best[CRITERION] or (score == best[CRITERION] and epoch < best["epochs"]):
                best = {"setting": candidate["setting"], "epochs": epoch, CRITERION: score}
    return best


def measure(group: str, image_size: tuple[int, int] | None = None) -> dict:
    """Train every candidate of ``group`` on the sample and keep its validation scores by epoch (at
    ``image_size`` where given, else the profile's)."""
    spec_class, _, max_epochs = GRID[group]
    tried = []
    for setting in candidates(group):
        values = {"dataset": "sample", **setting, "epochs": max_epochs}
        if image_size:
            values["image_size"] = image_size
        spec = spec_class.from_values(values, "smoke", report=None)
        print(f"{group}: {setting}, {max_epochs} epochs ...", flush=True)
        run = saliency.train(spec, device="cpu", progress=False).run
        scores = {name: [row[name] for row in run.history] for name in (CRITERION, "singleton AUC")
                  if all(name in row for row in run.history)}
        tried.append({"setting": setting, "validation": scores, "validation_loss": run.val_loss})
    return {"max_epochs": max_epochs, "candidates": tried, "choice": choose(tried)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", nargs="+", default=list(GRID), choices=list(GRID))
    parser.add_argument("--image-size", nargs=2, type=int, metavar=("HEIGHT", "WIDTH"),
                        help="another input size than the profile's, to see what it would choose (written to "
                             "smoke_choices_HEIGHTxWIDTH.json beside the profile's file, which stays as it is)")
    args = parser.parse_args()
    size = tuple(args.image_size) if args.image_size else None
    out = RESULTS.with_name(f"{RESULTS.stem}_{size[0]}x{size[1]}.json") if size else RESULTS
    os.environ["SALIENCY_PROGRESS_BARS"] = "0"
    os.environ.pop("SAMPLE_SEED", None)
    command = "python benchmarks/smoke_choices.py"
    if size:
        command += f" --groups {' '.join(args.groups)} --image-size {size[0]} {size[1]}"
    results = {"command": command, "sample_seed": 0, "criterion":
               f"mean {CRITERION} on the validation displays", "groups": {}}
    with tempfile.TemporaryDirectory(prefix="choices-") as scratch:
        os.environ["SALIENCY_CHECKPOINT_DIR"] = str(Path(scratch) / "checkpoints")   # nothing of yours is touched
        os.environ["SALIENCY_REPORT_DIR"] = str(Path(scratch) / "report")
        for group in args.groups:
            results["groups"][group] = measure(group, size)
            choice = results["groups"][group]["choice"]
            print(f"{group}: chosen {choice['setting']}, {choice['epochs']} epochs "
                  f"(validation {CRITERION} {choice[CRITERION]:.4f}); the profile has "
                  f"{ {k: profiles.SMOKE[group].get(k) for k in [*choice['setting'], 'epochs']} }", flush=True)
    if set(args.groups) != set(GRID) and out.is_file():   # keep the other groups' measurements
        import json

        results["groups"] = {**json.loads(out.read_text())["groups"], **results["groups"]}
    write_json_atomic(out, results)
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
