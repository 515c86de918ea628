"""One training entry point for both parts, without a notebook — in one process, or data-parallel
under ``torchrun`` with PyTorch's DistributedDataParallel::

    python -m helpers.train saliency --profile smoke
    python -m helpers.train inversion --layer conv2 --profile smoke --device cpu
    torchrun --nproc-per-node 2 -m helpers.train inversion --layer conv2 --profile smoke --device cpu
    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\
        -m helpers.train saliency --batch-size 32

Settings start from the notebook's own defaults (notebook 01 for ``saliency``, the layer notebooks
for ``inversion``), then ``--profile``, then the options given; the checkpoint is the file the
notebook would write with the same settings, so the notebook loads a run trained here as its own.

What is global and what is per rank: ``--batch-size`` is the **global** batch — each of the N
processes takes ``batch / N`` images per step through a seeded ``DistributedSampler`` (one
permutation per epoch, the same for any N), so one step sees the same images as a single process
with the whole batch, and the averaged gradients are the same up to rounding. The learning rate,
epochs and schedule are the run's. Only rank 0 validates, prints, and writes checkpoints, records
and logs (atomically); every rank reads a checkpoint to resume. ``gloo`` on the CPU, ``nccl`` on GPUs
(one per process, ``LOCAL_RANK``).

``--checkpoint-every 200`` writes a checkpoint every 200 steps, ``--checkpoint-every 10m`` every ten
minutes, besides each epoch's end; it holds the sampler's position and every random state, so a
run killed mid-epoch resumes mid-epoch when the same command is run again.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import signal
import sys

import torch
import torch.distributed as dist

#: The command line's names for the notebooks' parameters.
COMMON = {"profile": "PROFILE", "dataset": "DATASET", "data_dir": "DATA_DIR", "whole_dataset": "WholeDataset",
          "epochs": "EPOCHS", "batch_size": "BATCH_SIZE", "lr": "LEARNING_RATE", "lr_step": "LR_STEP",
          "image_size": "IMAGE_SIZE", "seed": "SEED", "device": "DEVICE", "num_workers": "NUM_WORKERS",
          "retrain": "RETRAIN"}
SALIENCY = {**COMMON, "optimizer": "OPTIMIZER", "ceil_mode": "CEIL_MODE", "mixed_precision": "MIXED_PRECISION"}
INVERSION = {**COMMON, "encoder": "ENCODER", "layer": "LAYER", "weights": "WEIGHTS",
             "require_pretrained": "REQUIRE_PRETRAINED", "mixed_precision": "MIXED_PRECISION"}


def notebook_options(part: str, namespace: dict, model: str = "salnet") -> dict:
    """The command-line options that repeat a notebook's settings (its ``globals()``) for
    :func:`launch`; for the second saliency model its own epochs and input size."""
    names = dict(SALIENCY if part == "saliency" else INVERSION)
    names.pop("retrain")
    options = {option: namespace[name] for option, name in names.items() if name in namespace}
    if model != "salnet":
        options.update(model=model, epochs=namespace["SECOND_MODEL_EPOCHS"],
                       image_size=namespace["SECOND_MODEL_IMAGE_SIZE"])
        options.pop("batch_size"), options.pop("optimizer"), options.pop("lr"), options.pop("lr_step")
    return options


def launch(part: str, nproc: int, retrain: bool = False, **options) -> None:
    """Train with ``nproc`` processes on this machine — ``torchrun --standalone --nproc-per-node
    nproc -m helpers.train part ...`` — printing its output as it comes; an error names the
    command and its exit status. The notebook then loads the checkpoint it left."""
    import subprocess

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
               "-m", "helpers.train", part]
    for option, value in options.items():
        flag = "--" + option.replace("_", "-")
        if isinstance(value, bool) and option != "whole_dataset":
            command += [flag] if value else []
        elif isinstance(value, (list, tuple)):
            command += [flag, *map(str, value)]
        elif value not in ("", None):
            command += [flag, str(value)]
    if retrain:
        command.append("--retrain")
    print("$ " + " ".join(command[1:]), flush=True)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                          env={**os.environ, "SALIENCY_PROGRESS_BARS": "0"}) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
    if process.returncode:
        raise RuntimeError(f"training with {nproc} processes failed (exit status {process.returncode}); its output is "
                           "above. Run the same cell again to resume from the last checkpoint")


def parse_checkpoint_every(text: str | None) -> tuple[int | None, float | None]:
    """``"200"`` → every 200 steps; ``"10m"`` → every 10 minutes; ``None`` → epochs only."""
    if not text:
        return None, None
    try:
        if text.endswith("m"):
            minutes = float(text[:-1])
            if minutes > 0:
                return None, minutes
        elif int(text) > 0:
            return int(text), None
    except ValueError:
        pass
    raise SystemExit(f"--checkpoint-every must be a number of steps (200) or minutes (10m), got {text!r}")


def distributed(device: str) -> tuple[int, int, torch.device]:
    """``(rank, world size, device)``; under torchrun (``WORLD_SIZE`` > 1) the process group is
    started — ``nccl`` on GPUs (one per process), ``gloo`` on the CPU."""
    from .training import select_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, select_device(device)
    chosen = select_device(device)
    if chosen.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        chosen = torch.device("cuda", local)
    dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo")
    return dist.get_rank(), world, chosen


def settings_for(group: str, names: dict[str, str], args: argparse.Namespace) -> dict:
    """The notebook's defaults, then the profile's, then the command line's."""
    from .profiles import apply_profile, notebook_defaults

    values = dict(notebook_defaults(group))
    if int(os.environ.get("RANK", "0")) == 0:   # one line about the profile, not one per process
        apply_profile(args.profile, group, values)
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            apply_profile(args.profile, group, values)
    for option, name in names.items():
        given = getattr(args, option, None)
        if given is not None and option != "profile":
            values[name] = list(given) if isinstance(given, tuple) else given
    return values


def per_rank_batch(global_batch: int, world: int) -> int:
    if global_batch % world:
        raise SystemExit(f"--batch-size {global_batch} (the global batch) must divide evenly among {world} processes")
    return global_batch // world


def train_saliency(args: argparse.Namespace) -> None:
    from . import evaluation, saliency
    from .data import SaliencyDataset, make_loader, resolve_saliency_dataset, saliency_splits
    from .training import TrainingConfig, fit, set_seed

    s = settings_for("saliency_model", SALIENCY, args)
    _, world, device = distributed(s["DEVICE"])
    set_seed(s["SEED"])
    dataset, root = resolve_saliency_dataset(s["DATASET"], s["DATA_DIR"])
    train_items, val_items = saliency_splits(dataset, root, s["WholeDataset"], s["SEED"])
    if args.model == saliency.CONTRAST:
        model = saliency.build_model(saliency.CONTRAST)
        image_size = s["SECOND_MODEL_IMAGE_SIZE"] if args.image_size is None else list(args.image_size)
        epochs = s["SECOND_MODEL_EPOCHS"] if args.epochs is None else args.epochs
        config = dataclasses.replace(saliency.CONTRAST_TRAINING, epochs=epochs, seed=s["SEED"],
                                     **({"batch_size": args.batch_size} if args.batch_size else {}))
        map_size = tuple(image_size)
    else:
        model = saliency.build_model(saliency.SALNET, s["CEIL_MODE"])
        image_size = s["IMAGE_SIZE"]
        config = TrainingConfig(epochs=s["EPOCHS"], batch_size=s["BATCH_SIZE"], optimizer=s["OPTIMIZER"],
                                lr=s["LEARNING_RATE"], step_size=s["LR_STEP"], seed=s["SEED"],
                                mixed_precision=s["MIXED_PRECISION"], channels_last=s["MIXED_PRECISION"])
        map_size = model.output_size(tuple(image_size))
    batch = per_rank_batch(config.batch_size, world)
    train_loader = make_loader(SaliencyDataset(train_items, image_size, map_size), batch, shuffle=True,
                               seed=config.seed, num_workers=s["NUM_WORKERS"])
    val_loader = make_loader(SaliencyDataset(val_items, image_size, map_size), config.batch_size,
                             num_workers=s["NUM_WORKERS"])
    metadata = saliency.run_metadata(dataset, root, s["WholeDataset"], image_size, model)
    every_steps, every_minutes = parse_checkpoint_every(args.checkpoint_every)
    fit(model, train_loader, val_loader, config, saliency.checkpoint_for(config, metadata), device=device,
        trainable=saliency.trainable_part(model), retrain=s["RETRAIN"], metadata=metadata,
        on_save=saliency.recorder(model, config, root, len(train_items), len(val_items)),
        held_out_scores=evaluation.held_out_scorer(val_items, val_loader, device),
        checkpoint_every=every_steps, checkpoint_minutes=every_minutes)


def train_inversion(args: argparse.Namespace) -> None:
    from . import inversion
    from .data import InversionDataset, make_loader, resolve_inversion_dataset
    from .training import INVERSION_TRAINING, fit, set_seed

    s = settings_for("invert_layer", INVERSION, args)
    _, world, device = distributed(s["DEVICE"])
    set_seed(s["SEED"])
    dataset, root, train_items, test_items = resolve_inversion_dataset(s["DATASET"], s["DATA_DIR"], s["WholeDataset"],
                                                                       s["SEED"])
    inverter = inversion.build_inverter(s["ENCODER"], s["LAYER"], s["WEIGHTS"], s["REQUIRE_PRETRAINED"], s["IMAGE_SIZE"])
    config = dataclasses.replace(INVERSION_TRAINING, epochs=s["EPOCHS"], batch_size=s["BATCH_SIZE"],
                                 lr=s["LEARNING_RATE"], step_size=s["LR_STEP"], seed=s["SEED"],
                                 mixed_precision=s["MIXED_PRECISION"], channels_last=s["MIXED_PRECISION"])
    batch = per_rank_batch(config.batch_size, world)
    train_loader = make_loader(InversionDataset(train_items, s["IMAGE_SIZE"]), batch, shuffle=True, seed=config.seed,
                               num_workers=s["NUM_WORKERS"])
    test_loader = make_loader(InversionDataset(test_items, s["IMAGE_SIZE"]), config.batch_size,
                              num_workers=s["NUM_WORKERS"])
    metadata = inversion.decoder_metadata(inverter, dataset, s["WholeDataset"], s["IMAGE_SIZE"])
    every_steps, every_minutes = parse_checkpoint_every(args.checkpoint_every)
    fit(inverter, train_loader, test_loader, config, inversion.decoder_checkpoint(config, metadata), device=device,
        trainable=inverter.decoder, retrain=s["RETRAIN"], metadata=metadata, held_out_name="test",
        checkpoint_every=every_steps, checkpoint_minutes=every_minutes)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m helpers.train", description=__doc__.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = main.add_subparsers(dest="part", required=True)
    for part, helptext in (("saliency", "notebook 01's networks (Part 1)"), ("inversion", "one layer's decoder (Part 2)")):
        p = parts.add_parser(part, help=helptext)
        p.add_argument("--profile", default="assignment", help="assignment (Tables 2 and 5) or smoke")
        p.add_argument("--dataset"), p.add_argument("--data-dir")
        p.add_argument("--whole-dataset", type=_whole_dataset, help="True, or N images in all")
        p.add_argument("--epochs", type=int), p.add_argument("--batch-size", type=int, help="the global batch")
        p.add_argument("--lr", type=float), p.add_argument("--lr-step", type=int), p.add_argument("--seed", type=int)
        p.add_argument("--device", help="auto, cpu, cuda or mps"), p.add_argument("--num-workers", type=int)
        p.add_argument("--checkpoint-every", help="steps (200) or minutes (10m) between checkpoints, besides epochs")
        p.add_argument("--retrain", action="store_true", default=None, help="train anew; the old file is kept")
        p.add_argument("--mixed-precision", action="store_true", default=None, help="bf16 autocast (CUDA only)")
        if part == "saliency":
            p.add_argument("--model", choices=("salnet", "contrast"), default="salnet")
            p.add_argument("--optimizer", choices=("sgd", "adam"))
            p.add_argument("--ceil-mode", action="store_true", default=None, help="Caffe's pooling (240×320 out)")
            p.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"))
        else:
            p.add_argument("--encoder"), p.add_argument("--layer"), p.add_argument("--weights")
            p.add_argument("--require-pretrained", action="store_true", default=None)
            p.add_argument("--image-size", type=int)
    return main


def _whole_dataset(text: str) -> bool | int:
    if text in ("True", "true"):
        return True
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--whole-dataset must be True or a number of images, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))

    def stopped(signum, frame):  # torchrun stops every rank when one fails
        print(f"rank {rank}: stopped ({signal.Signals(signum).name}) because another process of this run failed; "
              "run the same command again to resume from the last checkpoint", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stopped)
    try:
        (train_saliency if args.part == "saliency" else train_inversion)(args)
    except (RuntimeError, dist.DistBackendError) as error:
        if not (dist.is_available() and dist.is_initialized()):
            raise
        print(f"rank {rank}: {type(error).__name__}: {str(error).splitlines()[0]} — another process of this run "
              "failed or was killed; run the same command again to resume from the last checkpoint",
              file=sys.stderr, flush=True)
        return 1
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
