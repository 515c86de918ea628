"""What a trained model was made of beyond its settings: :func:`architecture` (the module tree and every
parameter's shape) and :func:`digest`; with the spec's identity and the data's fingerprint they name its
checkpoint and are checked when it is loaded.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from torch import nn


class ArchitectureMismatchError(RuntimeError):
    """A checkpoint holds a network the code no longer builds (the message says what differs)."""


def digest(value, length: int = 12) -> str:
    """A short hex digest of JSON-like ``value`` (key order does not matter)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:length]


def architecture(module: nn.Module) -> list[str]:
    """The network's code as data: ``name: Type(settings)`` for every module, then ``name: shape``
    for every parameter and buffer that is saved."""
    modules = [f"{name or '(network)'}: {type(m).__name__}({m.extra_repr()})" for name, m in module.named_modules()]
    shapes = [f"{name}: {list(tensor.shape)}" for name, tensor in module.state_dict().items()]
    return modules + shapes


def architecture_differences(stored: Sequence[str], built: Sequence[str], limit: int = 4) -> str:
    """In words, where the stored network and the one the code builds now differ."""
    stored_by_name = dict(line.split(": ", 1) for line in stored)
    built_by_name = dict(line.split(": ", 1) for line in built)
    differences = []
    for name in list(dict.fromkeys([*stored_by_name, *built_by_name])):
        before, now = stored_by_name.get(name, "(absent)"), built_by_name.get(name, "(absent)")
        if before != now:
            differences.append(f"{name}: {before} in the checkpoint, {now} in the code")
    more = f" and {len(differences) - limit} more" if len(differences) > limit else ""
    return "; ".join(differences[:limit]) + more


def check_architecture(path: str | Path, state: dict, module: nn.Module, retrain_hint: str) -> None:
    """Refuse a checkpoint whose network (module tree, settings, parameter shapes) is not ``module``."""
    built = architecture(module)
    if built != state.get("architecture"):
        raise ArchitectureMismatchError(f"{path}: the network in it is not the one the code builds now "
                                        f"({architecture_differences(state.get('architecture', []), built)}); "
                                        f"{retrain_hint}, or restore the code it was trained with")
