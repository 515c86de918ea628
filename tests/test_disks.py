"""Read-only data and full disks, on real mounts: a read-only bind mount and a small tmpfs. The
tests need root and mount(8); elsewhere they are skipped, saying why."""
import shutil
import subprocess

import pytest
import torch
from torch import nn

from helpers import saliency
from helpers.io import DiskFullError, write_text_atomic
from helpers.spec import SaliencySpec, Spec
from helpers.checkpoints import CheckpointError, read_checkpoint
from helpers.training import fit

MSE = nn.MSELoss()


def mount(arguments: list[str]):
    done = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount here ({done.stderr.strip() or 'mount failed'}); needs root and mount(8)")


@pytest.fixture
def read_only(tmp_path):
    """``(source, view)``: writes to ``source`` show through ``view``, a read-only bind mount of it."""
    source, view = tmp_path / "source", tmp_path / "view"
    source.mkdir(), view.mkdir()
    mount(["--bind", str(source), str(view)])
    try:
        mount(["-o", "remount,bind,ro", str(view)])
        yield source, view
    finally:
        subprocess.run(["umount", str(view)])


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)])
    yield disk
    subprocess.run(["umount", str(disk)])


def test_a_read_only_data_folder_trains_and_an_unwritable_cache_falls_back_to_decoding(small_sample, read_only,
                                                                                       monkeypatch, capsys):
    """``make run DATA_DIR=/shared/datasets`` on a read-only mount: the cache's default is not beside
    the data, and a cache that cannot be written is given up with one line, not a crash."""
    from helpers import paths

    source, view = read_only
    shutil.copytree(small_sample, source / "cat2000")
    with pytest.raises(OSError, match="Read-only"):
        (view / "cat2000" / "probe").write_text("x")
    monkeypatch.setenv("SALIENCY_DATA_DIR", str(view))
    monkeypatch.delenv("SALIENCY_CACHE_DIR")
    assert view not in paths.cache_dir().parents                          # the default: the project's .cache
    monkeypatch.setenv("SALIENCY_CACHE_DIR", str(view / "cache"))          # a cache that cannot be written
    monkeypatch.setenv("SALIENCY_CHECKPOINT_DIR", str(source.parent / "checkpoints"))   # trained here, not loaded
    spec = SaliencySpec(dataset="cat2000", whole_dataset=16, epochs=1, optimizer="adam", learning_rate=1e-3,
                        image_size=(32, 48), batch_size=4)
    trained = saliency.train(spec, device="cpu", progress=False)
    assert trained.run.history and trained.data.root.is_relative_to(view)
    assert "the decode cache" in capsys.readouterr().out and not list(view.rglob("*.npz"))


def test_a_checkpoint_on_a_full_disk_names_the_file_and_the_previous_one_stays(small_disk):
    model = nn.Linear(64, 256)        # about 66 k weights: 260 kB, 790 kB with Adam's state
    data = torch.utils.data.TensorDataset(torch.randn(8, 64), torch.randn(8, 256))
    loader = torch.utils.data.DataLoader(data, batch_size=4)
    checkpoint = small_disk / "run.pt"

    def fill_the_disk(epoch, row):
        if epoch == 1:
            (small_disk / "filler").write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 4096))

    config = Spec(epochs=2, batch_size=4, optimizer="sgd", learning_rate=1e-3, lr_step=5)
    with pytest.raises(CheckpointError, match=f"{checkpoint}: could not be written, the disk is full"):
        fit(model, loader, None, config, checkpoint, device="cpu", progress=False, on_epoch_end=fill_the_disk, loss_fn=MSE)
    assert read_checkpoint(checkpoint)["epoch"] == 1                       # the previous checkpoint is whole
    assert not [p for p in small_disk.iterdir() if p.name.startswith(".run.pt.tmp")]


def test_a_full_report_folder_names_the_file(small_disk):
    (small_disk / "filler").write_bytes(b"\0" * (shutil.disk_usage(small_disk).free - 1024))
    report = small_disk / "report" / "REPORT.md"
    with pytest.raises(DiskFullError, match=f"{report}: could not be written, the disk is full"):
        write_text_atomic(report, "x" * 100_000)
