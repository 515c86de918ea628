"""What only a GPU can check (marked ``cuda``; skipped, saying why, where none is visible).
``benchmarks/gpu_check.sh`` runs them on a GPU machine."""
import numpy as np
import pytest
import torch
from torch import nn

from helpers.data import make_loader
from helpers.metrics import auc_judd
from helpers.models import SaliencyNet
from helpers.checkpoints import read_checkpoint
from helpers.training import fit
from helpers.spec import Spec

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible")]

MSE = nn.MSELoss()


def test_fit_trains_on_the_gpu_with_bf16_and_channels_last_and_the_loss_falls(tmp_path):
    torch.manual_seed(0)
    inputs = torch.randn(16, 3, 64, 80)
    net = SaliencyNet()
    targets = torch.tanh(torch.nn.functional.interpolate(inputs.mean(1, keepdim=True), size=net.output_size((64, 80))))
    config = Spec(epochs=6, batch_size=4, optimizer="adam", learning_rate=1e-3, lr_step=10, mixed_precision=True,
                            channels_last=True)
    loader = make_loader(torch.utils.data.TensorDataset(inputs, targets), 4, shuffle=True)
    run = fit(net, loader, None, config, tmp_path / "gpu.pt", device="cuda", progress=False, loss_fn=MSE)
    assert run.train_loss[-1] < 0.8 * run.train_loss[0]
    assert all(t.device.type == "cpu" for t in read_checkpoint(tmp_path / "gpu.pt")["model"].values())


def test_the_batched_auc_engine_on_the_gpu_equals_the_reference():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from judd_auc import auc_judd_torch, make_maps

    maps, fixations = make_maps(4)
    gpu = auc_judd_torch(torch.from_numpy(np.stack(maps)).cuda(), torch.from_numpy(np.stack(fixations)).cuda(), False, 0)
    reference = np.array([auc_judd(m, f, jitter=False) for m, f in zip(maps, fixations)])
    assert np.max(np.abs(gpu - reference)) < 1e-9
