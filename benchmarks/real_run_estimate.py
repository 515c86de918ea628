"""What each notebook's training costs under the assignment's settings on the real data, in FLOPs counted by
PyTorch (``torch.utils.flop_counter``) on one step of each network, and the GPU time that is at a stated share of
a named GPU's peak — an estimate until ``benchmarks/gpu_check.sh`` measures it on a GPU.

    python benchmarks/real_run_estimate.py            # about a minute on 2 CPU cores; writes docs/results/real_run_estimate.json
    python benchmarks/real_run_estimate.py --write    # and the estimate table of docs/real-run.md

Counted: every training step's forward and backward pass, the validation passes, and each frozen front end's
forward pass once per image (the project computes it once); not counted: decoding the images (done once, on the
CPU, into the decode cache) and Python's own time — which is why the share of the peak is stated, not assumed 100 %.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import inversion, saliency  # noqa: E402
from helpers.io import replace_marked_block, write_json_atomic  # noqa: E402
from helpers.spec import ContrastSpec, InversionSpec, SaliencySpec  # noqa: E402

RESULTS = ROOT / "docs" / "results" / "real_run_estimate.json"
PAGE = ROOT / "docs" / "real-run.md"
MARKERS = ("<!-- real-run-estimate:begin -->\n", "\n<!-- real-run-estimate:end -->")
#: The GPU the estimate names, its dense peak for what trains (TF32 convolutions and matrix products: PyTorch's
#: default for convolutions on CUDA), and the share of it a run of small batches sustains.
GPU, PEAK_TFLOPS, SHARE = "NVIDIA H100 SXM", 495.0, 0.20
#: Images per split under the assignment's settings: CAT2000's 2,000 (70 / 15 / 15), Tiny-ImageNet's 20 classes
#: (500 training images each, 50 held-out each, 15 % of those for validation as the split takes them).
CAT2000 = {"train": 1400, "validation": 300, "test": 300}
TINY_IMAGENET = {"train": 10_000, "validation": 150, "test": 850}
COMPARE_LAYERS = ("features.3.add", "features.6.add", "features.13.add", "flatten")


def flops(run) -> float:
    """FLOPs of ``run()``, counted by PyTorch."""
    with FlopCounterMode(display=False) as counter:
        run()
    return float(counter.get_total_flops())


def step_flops(model: torch.nn.Module, inputs: torch.Tensor) -> tuple[float, float]:
    """``(forward and backward of one image, forward of one image)`` of ``model``'s trained part."""
    def train():
        model.train()
        model(inputs).float().sum().backward()

    def forward():
        model.eval()
        with torch.no_grad():
            model(inputs)
    return flops(train), flops(forward)


def saliency_notebook() -> dict:
    """Notebook 01: SalNet (Table 2) and the second model, each 20 epochs on CAT2000 at 240×320."""
    total = 0.0
    for spec in (SaliencySpec(), ContrastSpec(weights="random")):
        model = saliency.build_model(spec)
        image = torch.zeros(1, 3, *spec.image_size)
        train, forward = step_flops(model, image)
        if spec.MODEL == saliency.CONTRAST:   # its frozen front end runs once per image, not every step
            front = flops(lambda: model.frozen_features(image))
            train, forward = train - front, forward - front
            total += front * sum(CAT2000.values())
        total += spec.epochs * (CAT2000["train"] * train + 2 * CAT2000["validation"] * forward)   # loss and AUC pass
    return {"notebook": "01_saliency_model", "flops": total}


def decoder_flops(spec: InversionSpec, images: dict) -> float:
    """One decoder: the frozen encoder once per image, the decoder's steps and validation every epoch."""
    inverter = inversion.build_inverter(spec.encoder, spec.layer, "random", image_size=spec.image_size)
    image = torch.zeros(1, 3, spec.image_size, spec.image_size)
    with torch.no_grad():
        features = inverter.encoder(image)
    encoder = flops(lambda: inverter.encoder(image))
    train, forward = step_flops(inverter.decoder, features)
    return encoder * sum(images.values()) + spec.epochs * (images["train"] * train + images["validation"] * forward)


def estimate() -> dict:
    rows = [saliency_notebook()]
    for number, layer in ((3, "conv2"), (4, "conv5"), (5, "fc6"), (6, "fc8")):
        rows.append({"notebook": f"0{number}_invert_{layer}", "flops": decoder_flops(InversionSpec(layer=layer),
                                                                                      TINY_IMAGENET)})
    comparison = sum(2 * decoder_flops(InversionSpec(encoder="mobilenet_v2", layer=layer), TINY_IMAGENET)
                     for layer in COMPARE_LAYERS)   # a pretrained and a random network at each depth
    rows.append({"notebook": "07_inversion_summary (COMPARE = True: 8 MobileNetV2 decoders)", "flops": comparison})
    for row in rows:
        row["gpu_seconds"] = row["flops"] / (SHARE * PEAK_TFLOPS * 1e12)
    return {"gpu": GPU, "peak_tflops": PEAK_TFLOPS, "share": SHARE, "rows": rows,
            "command": "python benchmarks/real_run_estimate.py"}


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def page_block(results: dict) -> str:
    lines = [f"An **estimate**, not a measurement: the FLOPs PyTorch counts for each notebook's training at the "
             f"assignment's settings on the real data, at {results['share']:.0%} of an {results['gpu']}'s "
             f"{results['peak_tflops']:.0f} TFLOPS (TF32) peak (`{results['command']}`; decoding the images once "
             "and Python's own time not counted).",
             "", "| notebook | TFLOP | GPU time, estimated |", "|---|---|---|"]
    lines += [f"| `{row['notebook']}` | {row['flops'] / 1e12:,.0f} | {minutes(row['gpu_seconds'])} |"
              for row in results["rows"]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="also write the table into docs/real-run.md")
    args = parser.parse_args()
    torch.manual_seed(0)
    results = estimate()
    write_json_atomic(RESULTS, results)
    print(page_block(results))
    if args.write:
        replace_marked_block(PAGE, *MARKERS, page_block(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
