"""``make venv``'s last step: torch and torchvision import and run one of torchvision's compiled operators, or the
environment is not marked built (a CPU torch beside a CUDA torchvision fails only at its first operator)."""
from __future__ import annotations

import sys
from importlib import metadata


def installed(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def main() -> int:
    try:
        import torch
        import torchvision

        torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
    except Exception as error:   # an import error, a missing operator: whatever stops the first call
        detail = (str(error).splitlines() or [type(error).__name__])[0]
        print(f"make venv: torch {installed('torch')} and torchvision {installed('torchvision')} do not work together "
              f"({detail}); the environment is not marked built — remove {sys.prefix} and run make venv again, with "
              "TORCH_INDEX set to one index that has both", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__} and torchvision {torchvision.__version__}: checked (torchvision.ops.nms runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
