"""What a run is: one typed spec per part (``SaliencySpec``: Table 2; ``ContrastSpec``: the second model;
``InversionSpec``: Table 5), every setting one field declared once with :func:`setting`. A notebook builds its
spec from its parameters (``learning_rate`` is ``LEARNING_RATE``), a profile overrides fields, the command line
has one flag per field, and the checkpoint and record store it whole; a value you set wins over the profile.
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import ClassVar, Union

import torchvision

from .data import INVERSION_DATASETS, SALIENCY_DATASETS
from .data.subsets import check_whole_dataset
from .models import CONTRAST, MIN_IMAGE_SIDE, SALNET, check_image_size
from .profiles import profile_overrides, profile_reason

#: The networks ``ENCODER`` may name: torchvision's image classifiers.
CLASSIFIERS = tuple(torchvision.models.list_models(module=torchvision.models))

def setting(default, help: str, *, table: str = "", choices: tuple = (), at_least: int | None = None,
            above: float | None = None, identity: bool = True):
    """A spec field, declared once. ``at_least``: the smallest value allowed; ``above``: the value it must
    exceed. ``identity=False``: a setting of how to run, not of what is trained (it never names a
    checkpoint)."""
    return dataclasses.field(default=default, metadata={"help": help, "table": table, "choices": choices,
                                                        "at_least": at_least, "above": above, "identity": identity})


def part_default(base: type, name: str, default, table: str = ""):
    """A part's own default for a field ``base`` declares, and the table it comes from: the value
    changes, the declaration — what the field means and how it is checked — stays ``base``'s."""
    declared = next(f for f in dataclasses.fields(base) if f.name == name)
    return dataclasses.field(default=default, metadata={**declared.metadata, "table": table})


class SpecError(ValueError):
    """A setting of a spec has a value it cannot take (the message names the parameter)."""


#: How the notebooks spell the fields that are not simply the field's name in capitals.
PARAMETER_NAMES = {"whole_dataset": "WholeDataset"}
#: Fields read without a notebook's prefix (``SECOND_MODEL_``, ``COMPARE_``): the data and the split
#: are the same for every model a notebook trains.
SHARED = ("dataset", "data_dir", "whole_dataset", "seed", "require_real_data", "require_pretrained")


def parameter_name(field_name: str, prefix: str = "", shared: tuple = SHARED) -> str:
    """The notebook parameter of a field: ``learning_rate`` → ``LEARNING_RATE``; with a prefix,
    ``SECOND_MODEL_LEARNING_RATE``, except for the ``shared`` fields."""
    name = PARAMETER_NAMES.get(field_name, field_name.upper())
    return name if field_name in shared else prefix + name


#: The prefixes under which a notebook builds a second spec from its parameters (notebook 01's second model,
#: notebook 07's comparison): a notebook that declares one of them may be given any field under it.
SECOND_SPECS = {"SECOND_MODEL_": "contrast", "COMPARE_": "inversion"}


def check_parameters(namespace: dict, parameters) -> None:
    """Refuse, before anything is read, a name given to the notebook that it does not declare (its parameters cell
    annotates each) and that no spec it builds reads — papermill passes any ``-p NAME`` and only warns — naming it
    and what is there, or the parameter meant (``EPOHCS``, ``epochs``)."""
    annotated = set(namespace.get("__annotations__", {}))
    declared = annotated | set(parameters) | {"PROFILE"}   # from_parameters reads it
    for prefix, part in SECOND_SPECS.items():
        if any(name.startswith(prefix) for name in annotated):
            declared |= set(SPECS[part].parameter_names(prefix).values())
    in_capitals = {name.upper() for name in declared}
    for name in namespace:
        looks_like_one = re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or name.upper() in in_capitals
        if name in declared or not looks_like_one:
            continue
        close = difflib.get_close_matches(name.upper(), sorted(declared), n=1, cutoff=0.8)
        hint = f"did you mean {close[0]}?" if close else f"the parameters here are {', '.join(sorted(declared))}"
        raise SpecError(f"{name} = {namespace[name]!r}: no such parameter here (papermill passes any name, and "
                        f"nothing reads this one); {hint}")


@dataclass(frozen=True)
class Spec:
    """Fields shared by every part; subclasses add theirs. Build with :meth:`from_parameters`,
    :meth:`from_values` or the constructor; every value is checked on construction."""

    PART: ClassVar[str] = ""           # the profile group and the command-line sub-command
    DATASETS: ClassVar[tuple] = ()

    dataset: str = setting("auto", "auto (the real data set under data/; the generated sample only where "
                                   "REQUIRE_REAL_DATA is False, as under PROFILE 'smoke'), a data set's name, or sample")
    data_dir: str = setting("", "folder of the data set; empty for its default under data/", identity=False)
    require_real_data: bool = setting(True, "with DATASET 'auto', stop when no real data set is there rather than use "
                                            "the generated sample (PROFILE 'smoke' sets False; the environment "
                                            "variable REQUIRE_REAL_DATA=1 sets True)", identity=False)
    whole_dataset: Union[bool, int] = setting(True, "True: every image; N: N images in all, 15 % of them held out",
                                              table="the assignment's WholeDataset")
    seed: int = setting(0, "one seed for the split, the initial weights and the shuffling")
    epochs: int = setting(20, "passes over the training images", at_least=1)
    batch_size: int = setting(2, "images per step (the global batch when several processes train)", at_least=1)
    optimizer: str = setting("sgd", "sgd (momentum 0.9) or adam (betas 0.9, 0.999)", choices=("sgd", "adam"))
    learning_rate: float = setting(1e-4, "the starting learning rate", above=0)
    lr_step: int = setting(10, "multiply the learning rate by GAMMA every LR_STEP epochs", at_least=1)
    gamma: float = setting(0.1, "the learning rate's factor every LR_STEP epochs", above=0)
    momentum: float = setting(0.9, "SGD's momentum")
    betas: tuple = setting((0.9, 0.999), "Adam's betas")
    weight_decay: float = setting(1e-4, "L2 penalty on the weights, for either optimiser")
    mixed_precision: bool = setting(False, "bf16 autocast (on a CPU faster only with avx512_bf16 or AMX) and "
                                            "channels-last (CUDA only)")

    def __post_init__(self):
        betas = self.betas
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
            raise SpecError(f"BETAS must be two numbers in [0, 1), got {betas!r}")
        object.__setattr__(self, "betas", tuple(float(b) for b in betas))  # a list from JSON or papermill
        for spec_field in dataclasses.fields(self):
            self._check(spec_field, getattr(self, spec_field.name))
        if self.DATASETS and self.dataset not in self.DATASETS:
            raise SpecError(f"DATASET must be one of {self.DATASETS}, got {self.dataset!r}")
        try:
            check_whole_dataset(self.whole_dataset)
        except ValueError as error:
            raise SpecError(str(error)) from None

    def _check(self, spec_field: dataclasses.Field, value) -> None:
        name, meta = parameter_name(spec_field.name), spec_field.metadata
        kind = _base_type(type(self), spec_field.name)
        if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))
                                     or (kind is int and not float(value).is_integer())):
            raise SpecError(f"{name} must be a {'whole ' if kind is int else ''}number, got {value!r}")
        if kind is bool and not isinstance(value, bool):
            raise SpecError(f"{name} must be True or False, got {value!r}")
        if kind is str and not isinstance(value, str):
            raise SpecError(f"{name} must be a string, got {value!r}")
        if meta["choices"] and value not in meta["choices"]:
            raise SpecError(f"{name} must be one of {meta['choices']}, got {value!r}")
        if meta["at_least"] is not None and value < meta["at_least"]:
            raise SpecError(f"{name} must be at least {meta['at_least']}, got {value!r}")
        if meta["above"] is not None and value <= meta["above"]:
            raise SpecError(f"{name} must be above {meta['above']}, got {value!r}")

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_values(cls, values: dict, profile: str = "assignment", group: str | None = None, report=print):
        """The spec with the profile's overrides, then ``values`` (field → value; ``None`` means
        "not set"). ``report`` receives one line saying what the profile changed and what was kept."""
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise SpecError(f"{cls.__name__} has no setting {unknown}; its settings are {cls.field_names()}")
        given = {name: value for name, value in values.items() if value is not None}
        overrides = profile_overrides(profile, group or cls.PART)
        changed = {name: value for name, value in overrides.items() if name not in given}
        kept = [parameter_name(name) for name in overrides if name in given]
        if report is not None:
            if changed:
                report(f"PROFILE = {profile!r}: " + ", ".join(f"{parameter_name(n)} = {v!r}" for n, v in changed.items())
                       + f" — {profile_reason(profile, group or cls.PART)}"
                       + (f"; set by you, kept: {', '.join(kept)}" if kept else ""))
            else:
                report(f"PROFILE = {profile!r}: {cls.__name__}'s own defaults")
        return cls(**{**changed, **given})

    @classmethod
    def parameter_names(cls, prefix: str = "", shared: tuple = SHARED) -> dict[str, str]:
        """field → the notebook parameter that sets it."""
        return {name: parameter_name(name, prefix, shared) for name in cls.field_names()}

    @classmethod
    def from_parameters(cls, namespace: dict, prefix: str = "", shared: tuple = SHARED, group: str | None = None,
                        report=print):
        """The spec of a notebook: its ``PROFILE`` and every field's parameter found in
        ``namespace`` (its ``globals()``) — ``prefix`` + the name in capitals, except the ``shared``
        fields (:func:`parameter_name`); a parameter at ``None`` is not set."""
        names = cls.parameter_names(prefix, shared)
        check_parameters(namespace, names.values())
        values = {name: namespace[parameter] for name, parameter in names.items() if parameter in namespace}
        return cls.from_values(values, namespace.get("PROFILE", "assignment"), group, report)

    @classmethod
    def from_json(cls, text: str):
        return cls(**json.loads(text))

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    def as_dict(self) -> dict:
        """Every field as plain JSON-like data (what checkpoints and records store)."""
        return plain(dataclasses.asdict(self))

    def replace(self, **changes):
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise SpecError(f"{type(self).__name__} has no setting {unknown}; its settings are {self.field_names()}")
        return dataclasses.replace(self, **changes)

    # -- what the spec means ----------------------------------------------------------------------

    def identity(self) -> dict:
        """The fields that make a trained model what it is: every field but those of how to run
        (``identity=False``) and the epoch count (more epochs continue a run)."""
        return {f.name: plain(float(getattr(self, f.name)) if _base_type(type(self), f.name) is float
                               else getattr(self, f.name))
                for f in dataclasses.fields(self) if f.metadata["identity"] and f.name != "epochs"}

    @classmethod
    def from_stored(cls, values: dict):
        """The spec a checkpoint or record stored."""
        return cls(**values)

    @classmethod
    def differences_from_tables(cls, values: dict) -> list[str]:
        """``values`` (a stored spec) where it differs from a field taken from the assignment's
        tables: ``"OPTIMIZER 'adam' (Table 2: sgd)"``."""
        stored = cls.from_stored(values)
        return [f"{parameter_name(f.name)} {plain(getattr(stored, f.name))!r} ({f.metadata['table']})"
                for f in dataclasses.fields(cls)
                if f.metadata["table"].startswith("Table") and plain(getattr(stored, f.name)) != plain(f.default)]

    def describe(self) -> str:
        """One line per setting: ``PARAMETER = value``, marked where it is not the default."""
        lines = []
        for spec_field in dataclasses.fields(self):
            value = getattr(self, spec_field.name)
            mark = "" if value == _default(spec_field) else f"   (default {_default(spec_field)!r})"
            lines.append(f"  {parameter_name(spec_field.name):<16} = {value!r}{mark}")
        return f"{type(self).__name__}:\n" + "\n".join(lines)


def _default(spec_field: dataclasses.Field):
    return spec_field.default


def plain(value):
    """A JSON-like copy of ``value`` (tuples become lists), as a checkpoint or record stores it."""
    return json.loads(json.dumps(value))


def _base_type(cls, name: str):
    hint = typing.get_type_hints(cls)[name]
    if typing.get_origin(hint) in (Union, types.UnionType):
        return None  # checked by the field's own rule (whole_dataset)
    return typing.get_origin(hint) or hint


@dataclass(frozen=True)
class SaliencySpec(Spec):
    """The halved SalNet of notebook 01. Defaults: Table 2."""

    PART: ClassVar[str] = "saliency"
    DATASETS: ClassVar[tuple] = SALIENCY_DATASETS

    epochs: int = part_default(Spec, "epochs", 20, table="Table 2: 20")
    batch_size: int = part_default(Spec, "batch_size", 2, table="Table 2: 2")
    optimizer: str = part_default(Spec, "optimizer", "sgd", table="Table 2: sgd")
    learning_rate: float = part_default(Spec, "learning_rate", 1e-4, table="Table 2: 1e-4")
    lr_step: int = part_default(Spec, "lr_step", 10, table="Table 2: 10")
    image_size: tuple = setting((240, 320), "network input (height, width)", table="Table 2: 240×320")
    ceil_mode: bool = setting(False, "False: PyTorch's floor pooling (236×316 out, the assignment); True: Caffe's "
                                     "(240×320, the paper)", table="Table 1")
    loss: str = setting("mse", "mse (Table 2), or kld: the prediction and the ground truth each normalised to sum "
                               "to one, their KL divergence (the saliency literature's distribution loss)",
                        table="Table 2: mse", choices=("mse", "kld"))

    MODEL: ClassVar[str] = SALNET

    def __post_init__(self):
        object.__setattr__(self, "image_size", check_image_size(self.image_size))  # a list from JSON or papermill
        super().__post_init__()


@dataclass(frozen=True)
class ContrastSpec(SaliencySpec):
    """Notebook 01's second model: a frozen ImageNet MobileNetV2 front end and a contrast readout
    (56 k weights). Only the readout learns, so it takes a learning rate SalNet's 2.6 M could not."""

    PART: ClassVar[str] = "contrast"
    MODEL: ClassVar[str] = CONTRAST

    batch_size: int = part_default(Spec, "batch_size", 8)
    optimizer: str = part_default(Spec, "optimizer", "adam")
    learning_rate: float = part_default(Spec, "learning_rate", 1e-3)
    lr_step: int = part_default(Spec, "lr_step", 10)
    weights: str = setting("", "the front end's weights: empty for ImageNet's (helpers/weights.py), or 'random'")
    require_pretrained: bool = setting(False, "True: stop rather than fall back to a random front end (the real run "
                                              "sets it)", identity=False)


@dataclass(frozen=True)
class InversionSpec(Spec):
    """One layer's decoder behind a frozen encoder (notebooks 03–06, and 07's comparison).
    Defaults: Table 5."""

    PART: ClassVar[str] = "inversion"
    DATASETS: ClassVar[tuple] = INVERSION_DATASETS

    encoder: str = setting("alexnet", "alexnet (the assignment), or a torchvision classifier such as mobilenet_v2")
    layer: str = setting("fc8", "the layer to invert: conv1 … conv5, fc6, fc7, fc8 (AlexNet) or a node name")
    weights: str = setting("", "empty: ImageNet weights (torchvision's cache, its download, a mirror); 'random'; "
                               "or a path")
    require_pretrained: bool = setting(False, "True: stop rather than fall back to random weights", identity=False)
    epochs: int = part_default(Spec, "epochs", 20, table="Table 5: 20")
    batch_size: int = part_default(Spec, "batch_size", 64, table="Table 5: 64")
    optimizer: str = part_default(Spec, "optimizer", "adam", table="Table 5: adam")
    learning_rate: float = part_default(Spec, "learning_rate", 1e-3, table="Table 5: 1e-3")
    lr_step: int = part_default(Spec, "lr_step", 5, table="Table 5: 5")
    image_size: int = setting(227, "encoder input side", table="Table 5: 227")

    def __post_init__(self):
        if self.encoder not in CLASSIFIERS:
            raise SpecError(f"ENCODER must be one of torchvision's classification models "
                            f"(torchvision.models.list_models(module=torchvision.models)), got {self.encoder!r}: "
                            "detection, segmentation, video and optical-flow models have no single image "
                            "classifier to cut")
        side = self.image_size
        if isinstance(side, bool) or not isinstance(side, int) or side < MIN_IMAGE_SIDE:
            raise SpecError(f"IMAGE_SIZE must be one whole number of at least {MIN_IMAGE_SIDE} (the encoder's input "
                            f"side; Table 5: 227), got {side!r}")
        super().__post_init__()


SPECS = {spec.PART: spec for spec in (SaliencySpec, ContrastSpec, InversionSpec)}
