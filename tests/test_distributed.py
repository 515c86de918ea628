"""Data-parallel training (gloo, 2 processes on the CPU), step checkpoints and exact resume."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from helpers.data import make_loader
from helpers.models import InversionDecoder, SaliencyNet
from helpers.checkpoints import read_checkpoint
from helpers.training import ctrl_c_waits_for_the_step
from helpers.training import fit
from helpers.spec import Spec

MSE = nn.MSELoss()

CONFIG = Spec(epochs=1, batch_size=16, optimizer="adam", learning_rate=1e-3, lr_step=5, seed=3)


#: SalNet is compared in float64. What DDP guarantees is the same averaged gradient; in float32 a
#: 2-thread process and two 1-thread processes sum SalNet's convolutions in other orders, and Adam
#: turns a rounding-size gradient (a near-cancelling sum) into a learning-rate-size step, so the
#: weights after two steps differ by ~1e-2 on some CPUs. In float64 the rounding is 1e-9 times smaller:
#: the same bound then tests DDP, not the CPU's summation order. The decoders hold in float32.
DTYPES = {"salnet": torch.float64, "conv": torch.float32, "fc": torch.float32}


def tensors(kind: str, count: int = 32):
    """Inputs and targets for one of the three networks: SalNet on 32×48 images, a conv decoder
    from 256×3×3 features, an fc decoder from 4096-d features (in :data:`DTYPES`' precision)."""
    g = torch.Generator().manual_seed(11)
    if kind == "salnet":
        net = SaliencyNet().double()
        inputs = torch.randn(count, 3, 32, 48, generator=g, dtype=torch.float64)
        return net, inputs, torch.randn(count, 1, *net.output_size((32, 48)), generator=g, dtype=torch.float64)
    if kind == "conv":
        net = InversionDecoder("conv5", output_size=48, feature_shape=(256, 3, 3))
        return net, torch.randn(count, 256, 3, 3, generator=g), torch.randn(count, 3, 48, 48, generator=g)
    net = InversionDecoder("fc6", output_size=32, feature_shape=(4096,))
    return net, torch.randn(count, 4096, generator=g), torch.randn(count, 3, 32, 32, generator=g)


def train(kind: str, checkpoint: Path, batch: int, **options) -> dict:
    torch.manual_seed(0)
    net, inputs, targets = tensors(kind)
    loader = make_loader(torch.utils.data.TensorDataset(inputs, targets), batch, shuffle=True, seed=CONFIG.seed)
    fit(net, loader, None, CONFIG, checkpoint, device="cpu", progress=False, **options, loss_fn=MSE)
    return net.state_dict()


def _rank(rank: int, world: int, kind: str, folder: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        train(kind, Path(folder) / f"{kind}.pt", CONFIG.batch_size // world)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["salnet", "conv", "fc"])
def test_two_gloo_processes_end_with_the_weights_of_one_process_at_the_same_global_batch(kind, tmp_path):
    torch.multiprocessing.spawn(_rank, args=(2, kind, str(tmp_path)), nprocs=2, join=True)
    together = read_checkpoint(tmp_path / f"{kind}.pt")["model"]     # written by rank 0
    alone = train(kind, tmp_path / f"{kind}-alone.pt", CONFIG.batch_size)
    worst = max(float((together[name] - value).norm() / value.norm().clamp_min(1e-12)) for name, value in alone.items())
    # float32 rounding only: 2.3e-5 at most measured on AVX2 kernels (fc), far below a real fault (gradients
    # summed instead of averaged doubles SGD's step; ranks sharing images change which images were seen)
    assert worst <= 1e-4, f"largest relative difference {worst:.2e}"
    assert any(not torch.equal(together[n], v) for n, v in tensors(kind)[0].state_dict().items())  # it trained


class Watched(torch.utils.data.Dataset):
    """Wraps a dataset and calls ``watch(n)`` as it hands out its n-th item: a run dying, or Ctrl-C, mid-epoch."""

    def __init__(self, inner, watch):
        self.inner, self.watch, self.served = inner, watch, 0

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        self.served += 1
        self.watch(self.served)
        return self.inner[index]


def crash_after(count: int):
    def watch(served: int):
        if served > count:
            raise KeyboardInterrupt("simulated crash")
    return watch


def ctrl_c_at(count: int):
    def watch(served: int):
        if served == count:
            os.kill(os.getpid(), signal.SIGINT)
    return watch


@pytest.mark.slow  # about 4 s alone: near the quick tier's 5 s limit on a loaded machine
def test_a_run_killed_mid_epoch_resumes_mid_epoch_bit_for_bit(tmp_path):
    config = Spec(epochs=2, batch_size=4, optimizer="adam", learning_rate=1e-3, lr_step=1, seed=5)
    torch.manual_seed(0)
    net, inputs, targets = tensors("conv", 24)
    data = torch.utils.data.TensorDataset(inputs, targets)

    def run(dataset, path, fresh_net):
        loader = make_loader(dataset, config.batch_size, shuffle=True, seed=config.seed)
        return fit(fresh_net, loader, None, config, path, device="cpu", progress=False, checkpoint_every=2, loss_fn=MSE)

    torch.manual_seed(0)
    whole = tensors("conv", 24)[0]
    run(data, tmp_path / "whole.pt", whole)
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        run(Watched(data, crash_after(6 * 4 + 3 * 4 + 2)), tmp_path / "cut.pt", tensors("conv", 24)[0])  # dies in epoch 2
    state = read_checkpoint(tmp_path / "cut.pt")
    assert (state["epoch"], state["step_in_epoch"]) == (1, 2)      # the last checkpoint: 2 steps into epoch 2
    torch.manual_seed(123)                                         # the resumed run must not depend on this
    resumed = tensors("conv", 24)[0]
    run(data, tmp_path / "cut.pt", resumed)
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()))
    losses = [[row["train_loss"] for row in read_checkpoint(tmp_path / name)["history"]] for name in ("cut.pt", "whole.pt")]
    assert losses[0] == losses[1]      # the loss of the cut epoch counts the steps before the crash too


@pytest.fixture
def ctrl_c_is_pythons():
    """Ctrl-C raises KeyboardInterrupt here as in a terminal, even where the tests run in the background
    (a shell starts background jobs with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_where_ctrl_c_is_ignored_a_run_leaves_it_ignored():
    """``nohup make run &`` ignores Ctrl-C; the epoch's guard must not turn it back on."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_waits_for_the_step(True) as asked:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
        assert asked == [] and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
def test_ctrl_c_mid_epoch_saves_the_steps_done_and_the_rerun_ends_bit_for_bit_as_an_uninterrupted_run(
        tmp_path, ctrl_c_is_pythons):
    """Without step checkpoints asked for, Ctrl-C lets the step under way finish and keeps it: nothing
    trained is lost, and the rerun resumes there."""
    config = Spec(epochs=2, batch_size=4, optimizer="adam", learning_rate=1e-3, lr_step=1, seed=5)
    data = torch.utils.data.TensorDataset(*tensors("conv", 24)[1:])

    def run(dataset, path, fresh_net):
        loader = make_loader(dataset, config.batch_size, shuffle=True, seed=config.seed)
        return fit(fresh_net, loader, None, config, path, device="cpu", progress=False, loss_fn=MSE)

    torch.manual_seed(0)
    whole = tensors("conv", 24)[0]
    run(data, tmp_path / "whole.pt", whole)
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt, match="stopped after step 3 of epoch 2"):
        run(Watched(data, ctrl_c_at(6 * 4 + 2 * 4 + 2)), tmp_path / "cut.pt", tensors("conv", 24)[0])  # in epoch 2's step 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler     # Ctrl-C is Python's again
    state = read_checkpoint(tmp_path / "cut.pt")
    assert (state["epoch"], state["step_in_epoch"]) == (1, 3)
    torch.manual_seed(123)
    resumed = tensors("conv", 24)[0]
    run(data, tmp_path / "cut.pt", resumed)
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()))


TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "helpers.train",
            "inversion", "--profile", "smoke", "--device", "cpu", "--encoder", "alexnet", "--layer", "conv2",
            "--weights", "random", "--whole-dataset", "120", "--image-size", "96", "--epochs", "2",
            "--batch-size", "16", "--checkpoint-every", "1"]


@pytest.mark.slow
def test_torchrun_killed_rank_stops_every_rank_and_the_rerun_resumes_to_the_same_weights(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SALIENCY_CHECKPOINT_DIR": str(tmp_path / "killed")}
    run = subprocess.Popen(TORCHRUN, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    checkpoints = tmp_path / "killed"
    deadline, inside = time.time() + 300, None
    while time.time() < deadline and run.poll() is None:  # wait for a step checkpoint inside an epoch
        found = list(checkpoints.glob("inversion_*.pt")) if checkpoints.is_dir() else []
        if found:
            state = read_checkpoint(found[0])
            if state["epoch"] < 2 and state["step_in_epoch"] >= 2:
                inside = state
                break
        time.sleep(0.02)
    ranks = subprocess.run(["pgrep", "-f", "-P", str(run.pid), "helpers.train"], capture_output=True, text=True)
    workers = sorted(int(pid) for pid in ranks.stdout.split())
    if inside is None or len(workers) != 2:  # the run ended (or never started) before a rank could be killed
        run.kill()
        output = run.communicate()[0]
        pytest.fail(f"no rank to kill inside an epoch (exit {run.returncode}, checkpoint seen: {inside is not None}, "
                    f"workers: {workers}); the run's output:\n{output[-3000:]}")
    os.kill(workers[1], signal.SIGKILL)
    output, _ = run.communicate(timeout=300)
    assert run.returncode != 0
    assert "exitcode  : -9" in output or "Signal 9" in output or "SIGKILL" in output, output[-3000:]
    assert "run the same command again to resume" in output, output[-3000:]
    stopped_at = read_checkpoint(found[0])
    assert stopped_at["epoch"] < 2
    rerun = subprocess.run(TORCHRUN, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "Resuming" in rerun.stdout + rerun.stderr
    straight_env = {**env, "SALIENCY_CHECKPOINT_DIR": str(tmp_path / "straight")}
    straight = subprocess.run(TORCHRUN, env=straight_env, capture_output=True, text=True, timeout=600)
    assert straight.returncode == 0, straight.stderr[-3000:]
    a = read_checkpoint(found[0])["model"]
    b = read_checkpoint(next((tmp_path / "straight").glob("inversion_*.pt")))["model"]
    worst = max(float((a[n] - b[n]).abs().max()) for n in a)
    assert worst <= 1e-6, f"largest difference {worst:.2e}"
