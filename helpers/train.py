"""Training without a notebook: ``python -m helpers.train saliency|contrast|inversion --profile smoke`` (one flag
per spec field, ``--help`` shows each default and table). Data-parallel when the user starts it under
``torchrun --nproc-per-node N -m helpers.train …`` (``--batch-size`` is the global batch).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import typing
from pathlib import Path

import torch.distributed as dist

from . import inversion, run_command, saliency
from .profiles import PROFILES
from .spec import SPECS, Spec

RECIPES = {"saliency": saliency.train, "contrast": saliency.train, "inversion": inversion.train_decoder}
WHAT = {"saliency": "the halved SalNet (Part 1, Tables 1 and 2)",
        "contrast": "Part 1's second model: frozen MobileNetV2 and a contrast readout",
        "inversion": "one layer's decoder (Part 2, Tables 3-5)"}


def _whole_dataset(text: str) -> bool | int:
    if text in ("True", "true"):
        return True
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--whole-dataset must be True or a number of images, got {text!r}") from None


def _add_field(group: argparse._ArgumentGroup, spec_class: type[Spec], spec_field: dataclasses.Field) -> None:
    """One flag for one field: its type, choices, default and table in the help."""
    meta, flag = spec_field.metadata, "--" + spec_field.name.replace("_", "-")
    table = f"; {meta['table']}" if meta["table"] else ""
    helptext = f"{meta['help']} (default: {spec_field.default!r}{table})".replace("%", "%%")
    kind = typing.get_type_hints(spec_class)[spec_field.name]
    options: dict = {"default": None, "help": helptext, "dest": spec_field.name}
    if meta["choices"]:
        options["choices"] = meta["choices"]
    if spec_field.name == "whole_dataset":
        options.update(type=_whole_dataset, metavar="N|True")
    elif kind is bool:
        options["action"] = argparse.BooleanOptionalAction
    elif kind is tuple:
        options.update(type=int, nargs=2, metavar=("H", "W"))
    elif kind in (int, float, str):
        options["type"] = kind
    group.add_argument(flag, **options)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m helpers.train", description=__doc__.split("\n\n")[0].rstrip(":"),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = main.add_subparsers(dest="part", required=True)
    for part, spec_class in SPECS.items():
        p = parts.add_parser(part, help=WHAT[part], description=f"{WHAT[part]}. Settings: {spec_class.__name__}.")
        run = p.add_argument_group("how to run (not part of the model's identity)")
        run.add_argument("--profile", default="assignment", choices=sorted(PROFILES),
                         help="named overrides of the defaults (default: assignment, the tables)")
        run.add_argument("--spec", type=Path, help="the whole spec as a JSON file (flags given as well win)")
        run.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
        run.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes (default: 0)")
        run.add_argument("--checkpoint-every", help="steps (200) or minutes (10m) between checkpoints, besides epochs")
        run.add_argument("--retrain", action="store_true", help="train anew; the old checkpoint is kept beside it")
        settings = p.add_argument_group(f"settings ({spec_class.__name__}; in a notebook, the parameter in capitals)")
        for spec_field in dataclasses.fields(spec_class):
            _add_field(settings, spec_class, spec_field)
    return main


def spec_from_arguments(args: argparse.Namespace) -> Spec:
    """The spec the command line describes: the ``--spec`` file, or the defaults and ``--profile``;
    then the flags given."""
    spec_class = SPECS[args.part]
    given = {name: getattr(args, name) for name in spec_class.field_names() if getattr(args, name) is not None}
    quiet = int(os.environ.get("RANK", "0")) != 0  # one line about the profile, not one per process
    if args.spec is not None:
        return spec_class.from_json(args.spec.read_text()).replace(**given)
    return spec_class.from_values(given, args.profile, report=None if quiet else print)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))

    def stopped(signum, frame):  # torchrun stops every rank when one fails
        print(f"rank {rank}: stopped ({signal.Signals(signum).name}) because another process of this run failed; "
              "run the same command again to resume from the last checkpoint", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stopped)
    try:
        spec = spec_from_arguments(args)
    except ValueError as error:
        print(f"python -m helpers.train {args.part}: {error}", file=sys.stderr)
        return 2
    if rank == 0:
        print(spec.describe(), flush=True)
    try:
        RECIPES[args.part](spec, device=args.device, retrain=args.retrain, num_workers=args.num_workers,
                           checkpoint_every=args.checkpoint_every)
    except KeyboardInterrupt:
        print(f"\npython -m helpers.train {args.part}: stopped (Ctrl-C); the last checkpoint is kept — run the same "
              "command again to resume from it", file=sys.stderr, flush=True)
        return 130
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
    run_command(main, "python -m helpers.train")
