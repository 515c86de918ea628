"""The README's first screen: what a smoke run makes, committed under ``docs/first-screen/``.

    make first-screen                                   # make run (PROFILE=smoke), then this script
    python benchmarks/first_screen.py [--report DIR]    # from a report folder that a smoke run wrote

Takes from the report folder the figure of one test display per category (every map, fixations as
dots) and the grid of reconstructions by depth for a pretrained and a random encoder, makes them
small PNGs, and keeps the numbers the README quotes — notebook 02's overall scores and notebook 07's
errors by depth — in ``docs/first-screen/results.json`` with the commit and command that made them.
It then rewrites the README's block between the first-screen markers from that file;
``tests/test_readme.py`` checks that the two agree.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import baselines, evaluation, metrics, paths, samples  # noqa: E402
from helpers.profiles import SMOKE  # noqa: E402
from helpers.io import atomic_path, replace_marked_block, write_json_atomic  # noqa: E402

FOLDER = ROOT / "docs" / "first-screen"
FIGURES = {"part1.png": "fig_saliency_per_category.png", "part2.png": "fig_inversion_trained_vs_random_grid.png"}
WIDTH = 900  # px: sharp on a README; with 256 colours, a few hundred kB for both
POP_OUT, FACES = "singleton AUC, pop-out", "singleton AUC, faces"
PART1_METRICS = ("AUC-Judd", POP_OUT, FACES, "NSS", "KL")
PART1_ROWS = (evaluation.SECOND_NETWORK, evaluation.NETWORK, evaluation.CENTRE_BIAS, evaluation.ORACLE_SAMPLE)
BEST_NO_LEARNING = f"best no-learning map (each column's best of {len(baselines.CANDIDATES)})"


def part1_row(saliency: dict, name: str) -> dict:
    """One map's first-screen scores: AUC-Judd, NSS and KL overall; the singleton AUC averaged over the
    pop-out categories and over the face categories."""
    by_category = saliency["per_category"][name]
    mean = lambda categories: sum(by_category[c][metrics.SINGLETON_AUC] for c in categories) / len(categories)  # noqa: E731
    return {"AUC-Judd": saliency["overall"][name]["AUC-Judd"], POP_OUT: mean(samples.POP_OUT_CATEGORIES),
            FACES: mean(samples.FACE_CATEGORIES),
            "NSS": saliency["overall"][name]["NSS"], "KL": saliency["overall"][name]["KL"]}


def best_no_learning_row(saliency: dict) -> tuple[dict, dict]:
    """``(scores, which)``: for each first-screen column the best no-learning map's score, and its name."""
    rows = {name: part1_row(saliency, name) for name in saliency["overall"] if evaluation.is_no_learning(name)}
    scores, which = {}, {}
    for column in PART1_METRICS:
        pick = (min if column == "KL" else max)(rows, key=lambda name: rows[name][column])
        scores[column], which[column] = rows[pick][column], pick[len(evaluation.NO_LEARNING) + 2:]
    return scores, which
MARKERS = ("<!-- first-screen:begin -->\n", "\n<!-- first-screen:end -->")


def shrink(source: Path, target: Path) -> None:
    """``source`` at :data:`WIDTH` pixels wide (never enlarged), as an optimised PNG of 256 colours."""
    with Image.open(source) as image:
        image = image.convert("RGB")
        if image.width > WIDTH:
            image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.Resampling.LANCZOS)
        with atomic_path(target) as partial:
            image.quantize(colors=256, dither=Image.Dither.FLOYDSTEINBERG).save(partial, format="PNG", optimize=True)


def collect(report: Path) -> dict:
    """The numbers the first screen quotes, read from a smoke run's metrics files."""
    saliency = json.loads((report / "metrics" / "saliency_metrics.json").read_text())
    comparison = json.loads((report / "metrics" / "inversion_comparison.json").read_text())
    return {
        "part1": {"test_images": saliency["held_out_images"], "sample_seed": saliency["sample_seed"],
                  "rows": {**{name: part1_row(saliency, name) for name in PART1_ROWS[:2] if name in saliency["overall"]},
                           BEST_NO_LEARNING: best_no_learning_row(saliency)[0],
                           **{name: part1_row(saliency, name) for name in PART1_ROWS[2:]}},
                  "best_no_learning": best_no_learning_row(saliency)[1],
                  "no_learning_maps": sum(evaluation.is_no_learning(name) for name in saliency["overall"])},
        "part2": {"encoder": comparison["encoder"], "layers": comparison["layers"],
                  "test_images": comparison["test_images"], "image_size": comparison["image_size"],
                  "mean_image": comparison["mean_image"]["normalised error"],
                  "errors": {kind: [comparison["rows"][kind][layer]["normalised error"] for layer in comparison["layers"]]
                             for kind in ("pretrained", "random")}},
    }


def readme_block(results: dict) -> str:
    """The README's first screen, every number read from ``results``."""
    part1, part2 = results["part1"], results["part2"]
    rows = part1["rows"]
    second, best = rows.get(evaluation.SECOND_NETWORK), rows[BEST_NO_LEARNING]
    lines = [
        "**Part 1** — one test display of each category of the generated sample: the image, the ground truth, both "
        "networks' maps and the no-learning map that did best on the validation displays, with the fixations as dots "
        "over each map. In the four **pop-out** categories the target is an odd colour, brightness, orientation "
        "or size, which a map with no learning finds as well; in the two **face** categories it is a schematic face "
        "among the same face upside down — the same parts, ink, symmetry and ink moments, as a leak audit checks — "
        "but the one glyph with no near copy in its display, which patch rarity, a map with no learning, reads "
        "([`docs/part1-sample.md`](docs/part1-sample.md)). "
        f"{smoke_sentence()} The assignment's own Table 2 run is in the Part 1 table further down.",
        "",
        "![Part 1: one test display per category, every map](docs/first-screen/part1.png)",
        "",
        "*Singleton AUC*: how well a map ranks the target's pixels above the distractors' (0.5: blind; 1: the target "
        "above every distractor). *Oracle*: the density the sample's fixations were drawn from, the best any map can "
        "do. *MobileNetV2 + contrast readout*, the *second model*: ImageNet's frozen MobileNetV2 with a small readout "
        "trained on the training displays. A *no-learning map* is computed from the image by a fixed rule. *Centre "
        "bias*: a Gaussian at the display's centre, its width fitted on the training fixations.",
        "",
        f"| map ({part1['test_images']} test displays) | {' | '.join(PART1_METRICS)} |",
        "|---|" + "---|" * len(PART1_METRICS),
        *(f"| {name} | " + " | ".join(f"{row[m]:.3f}" for m in PART1_METRICS) + " |"
          for name, row in part1["rows"].items()),
        "",
        "The best no-learning map per column: " + "; ".join(f"{column}: {name}" for column, name in
                                                          part1["best_no_learning"].items()) + ".",
        "",
        f"* **Pop-out displays**: the best map with no learning reaches a singleton AUC of {best[POP_OUT]:.3f}; "
        "training is not needed to find an odd colour or size."
        + (f" The second model: {second[POP_OUT]:.3f}." if second else ""),
        f"* **Face displays**: the best of the {part1['no_learning_maps']} maps with no learning built here scores "
        f"{best[FACES]:.3f} (0.5 is blind)"
        + (f"; the second model, trained on the training displays, {second[FACES]:.3f}" if second else "")
        + f", on {part1['test_images'] // 6} test displays per category (the standard errors, and a draw of 100 per "
        "category: [`docs/part1-sample.md`](docs/part1-sample.md)).",
        "",
        f"**Part 2** — photographs never used for training, reconstructed from four depths of {part2['encoder']} "
        f"({part2['image_size']}² input) with ImageNet weights and with random ones. Normalised error (mean image "
        f"{part2['mean_image']:.3f}):",
        "",
        "![Part 2: reconstructions by depth, pretrained and random](docs/first-screen/part2.png)",
        "",
        "| weights | " + " | ".join(f"`{layer}`" for layer in part2["layers"]) + " |",
        "|---|" + "---|" * len(part2["layers"]),
        *(f"| {kind} | " + " | ".join(f"{e:.3f}" for e in errors) + " |" for kind, errors in part2["errors"].items()),
        "",
        f"*Made by `{results['command']}` at commit `{results['commit']}` (the smoke profile on the generated "
        "samples, not the papers' data); the numbers are read from `docs/first-screen/results.json`.*",
    ]
    return "\n".join(lines)


def smoke_sentence() -> str:
    """What the smoke profile trains SalNet (half) with, read from the profile itself."""
    salnet = SMOKE["saliency"]
    optimiser = {"adam": "Adam", "sgd": "SGD"}[salnet["optimizer"]]
    loss = {"mse": "the MSE of the maps", "kld": "the maps' KL divergence"}[salnet["loss"]]
    return (f"The smoke profile trains SalNet (half) for {salnet['epochs']} epochs at {salnet['image_size'][0]}×"
            f"{salnet['image_size'][1]} with {optimiser} at {salnet['learning_rate']:g} and {loss}, each chosen on the "
            "validation displays.")


def write_readme_block(results: dict, readme: Path = ROOT / "README.md") -> None:
    replace_marked_block(readme, *MARKERS, readme_block(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", default=str(paths.report_dir()), help="the report folder of a smoke run")
    parser.add_argument("--command", default="make first-screen", help="what made the report (said on the screen)")
    parser.add_argument("--commit", default="", help="the commit that made the report (default: the checkout's)")
    args = parser.parse_args()
    report = Path(args.report)
    for target, source in FIGURES.items():
        shrink(report / "figures" / source, FOLDER / target)
    commit = args.commit or subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                           text=True, check=False).stdout.strip() or "unknown"
    results = {"command": args.command, "commit": commit, **collect(report)}
    write_json_atomic(FOLDER / "results.json", results)
    write_readme_block(results)
    print(readme_block(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
