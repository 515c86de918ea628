"""A trained network on your own images: ``python -m helpers.predict IMAGE_OR_FOLDER… --out DIR``.

Saliency maps in the MIT/Tübingen benchmarks' submission layout — one 8-bit grayscale PNG per image, named by its
stem, at the image's own size — from the network notebook 01 trained last (or ``--checkpoint``); ``--overlay`` adds
a picture to look at; ``--decoder LAYER`` reconstructs each image from that layer of notebook 03–06's decoder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from PIL import Image

from . import run_command
from .data import load_rgb, normalise_imagenet, to_pixels, to_signed
from .evaluation import upsample
from .inversion import build_inverter, layer_records, load_decoder, reconstruct
from .parallel import select_device
from .progress import tqdm
from .trained_models import load_network, trained_checkpoint

#: What counts as an image in a folder (by suffix; any mode or bit depth Pillow opens).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


class PredictError(ValueError):
    """A path given to predict is not an image or a folder of images (the message names it)."""


def image_files(paths: Sequence[str | Path]) -> list[Path]:
    """The images named, and those directly inside the folders named, in order; anything else is refused."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not inside:
                raise PredictError(f"{path}: no image in this folder (looked for {', '.join(IMAGE_SUFFIXES)})")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise PredictError(f"{path}: no such image or folder")
    stems = [p.stem for p in found]
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twice:
        raise PredictError(f"two images share the stem {twice[0]!r}, and a map is named by its image's stem: give "
                           "them separately, with another --out")
    return found


def saliency_maps(images: Sequence[str | Path], checkpoint: str | Path = "", device: str = "auto",
                  progress: bool = True) -> Iterator[tuple[Path, np.ndarray]]:
    """``(image, map)`` for each image: the network's map, as the benchmark scores it — MATLAB's bicubic resize to
    the image's own size, scaled to [0, 1] — float64 ``(H, W)``. The network: ``checkpoint``, else notebook 01's last."""
    device = select_device(device)
    network = load_network(trained_checkpoint(checkpoint), device)
    height, width = network.image_size
    for path in tqdm(list(map(Path, images)), desc="saliency maps", unit="image", disable=not progress):
        size = load_rgb(path).size
        drafted = load_rgb(path, draft_size=(width, height))   # decoded as training decodes it
        batch = to_signed(np.array(drafted.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=None)))
        with torch.no_grad():
            output = network.model(batch[None].to(device)).float().cpu()[0, 0].numpy().astype(np.float64)
        yield path, upsample(output, size[::-1])


def reconstructions(images: Sequence[str | Path], layer: str, encoder: str = "alexnet", device: str = "auto",
                    progress: bool = True) -> Iterator[tuple[Path, np.ndarray]]:
    """``(image, reconstruction)`` for each image: what the decoder a layer notebook trained for ``layer`` makes of
    it, uint8 ``(H, W, 3)`` at the image's own size (the encoder sees it at its input size, as in training)."""
    records = {**layer_records(None, encoder), **layer_records(None, encoder, "pretrained")}   # ImageNet's first
    if layer not in records:
        raise PredictError(f"--decoder {layer}: no trained {encoder} decoder for that layer; trained: "
                           f"{', '.join(records) or 'none (run notebooks 03–06 first)'}")
    record = records[layer]
    inverter = build_inverter(record.encoder, layer, record.spec.get("weights", ""), image_size=record.image_size)
    load_decoder(inverter, record)
    side = record.image_size
    for path in tqdm(list(map(Path, images)), desc=f"{layer} reconstructions", unit="image", disable=not progress):
        image = load_rgb(path)
        pixels = torch.from_numpy(np.array(image.resize((side, side), Image.Resampling.BILINEAR))).permute(2, 0, 1)
        output = reconstruct(inverter, normalise_imagenet(pixels.float().div(255))[None], device)
        square = np.round(to_pixels(output)[0] * 255).astype(np.uint8)
        yield path, np.array(Image.fromarray(square).resize(image.size, Image.Resampling.BILINEAR))


def overlay(image: Path, saliency: np.ndarray) -> Image.Image:
    """The image, darkened where the map is low: a picture a person looks at (the map in [0, 1])."""
    rgb = np.asarray(load_rgb(image), dtype=np.float64)
    shade = 0.25 + 0.75 * saliency[..., None]
    return Image.fromarray(np.round(rgb * shade).astype(np.uint8))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+", help="images, or folders of images")
    parser.add_argument("--out", required=True, type=Path, help="the folder the maps are written to (made if missing)")
    parser.add_argument("--checkpoint", default="", help="a saliency checkpoint (default: notebook 01's last network)")
    parser.add_argument("--overlay", action="store_true", help="also <stem>_overlay.jpg: the image shaded by its map")
    parser.add_argument("--decoder", metavar="LAYER", help="reconstruct each image from this layer instead (conv2 ...)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    args = parser.parse_args(argv)
    try:
        files = image_files(args.images)
        args.out.mkdir(parents=True, exist_ok=True)
        if args.decoder:
            for path, pixels in reconstructions(files, args.decoder, device=args.device):
                Image.fromarray(pixels).save(args.out / f"{path.stem}_{args.decoder}.png")
        else:
            for path, saliency in saliency_maps(files, args.checkpoint, args.device):
                Image.fromarray(np.round(saliency * 255).astype(np.uint8)).save(args.out / f"{path.stem}.png")
                if args.overlay:
                    overlay(path, saliency).save(args.out / f"{path.stem}_overlay.jpg", quality=90)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"python -m helpers.predict: {error}", file=sys.stderr)
        return 1
    print(f"{len(files)} image{'s' if len(files) != 1 else ''} → {args.out}")
    return 0


if __name__ == "__main__":
    run_command(main, "python -m helpers.predict")
