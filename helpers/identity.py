"""What a trained model was made of, beyond its settings: the data it saw and the code of its network.

Both are part of a run's identity (:meth:`helpers.spec.Spec.identity` is the rest): they name its
checkpoint, are stored in it and in its record, and are checked when it is loaded, so a model
trained on other images, or built by other code, is never taken for this run's.

* :meth:`helpers.data.RunData.fingerprint` — every file of both splits by its path *relative to the
  data set's folder* and its size: a moved or renamed data folder with the same files is the same
  data; an added, removed or replaced image is not.
* :func:`architecture` — the module tree (each module's type and settings) and every parameter's
  shape: ReLU changed to Tanh, or a layer widened, is another network.
"""
from __future__ import annotations

import hashlib
import json
from typing import Sequence

from torch import nn


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
