"""Nothing lost, nothing scored on the wrong images: the hostile cases, one or more per way a user's
files or a trained model could be lost or misread.

* a folder the user names is read, never written or deleted; only the project's own sample folder is replaced;
* a folder is replaced by rename-aside, move-in, delete: a kill leaves a whole copy;
* a model is scored only on the split it was trained on (by path and content), loaded only through
  the architecture check, and resumed only on the files it saw;
* checkpoints and records reach the disk before their rename; one run at a time per checkpoint.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat

from helpers import checkpoints, io, saliency, trained_models
from helpers.data import DataError, ImageItem, RunData, check_saliency_items, find_cat2000, load_gray, load_rgb
from helpers.data import choice, fingerprints
from helpers.data.fingerprints import SplitChangedError, check_trained_on
from helpers.downloads import DownloadError, extract
from helpers.samples import SampleFolderError, ensure_inversion_sample, ensure_saliency_sample
from helpers.spec import SaliencySpec
from helpers.checkpoints import CheckpointError

TINY = dict(dataset="cat2000", whole_dataset=16, epochs=1, optimizer="adam", learning_rate=1e-3,
            image_size=(32, 48), batch_size=4)


@pytest.fixture
def cat2000(small_sample, tmp_path):
    """A copy of the small CAT2000-layout sample that a test may change."""
    return shutil.copytree(small_sample, tmp_path / "cat2000")


def tiny_run(**changes):
    return saliency.train(SaliencySpec(**{**TINY, **changes}), device="cpu", progress=False)


def listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- 1. a folder the user names is never written ----------------------------------------------------

@pytest.fixture
def users_folder(tmp_path):
    """A user's CAT2000 folder, with notes of their own beside it."""
    folder = tmp_path / "my" / "cat2000"
    (folder / "trainSet" / "Stimuli" / "Action").mkdir(parents=True)
    (folder / "trainSet" / "Stimuli" / "Action" / "001.jpg").write_bytes(b"not really a jpeg")
    (folder / "MY_NOTES.txt").write_text("three weeks of notes")
    return folder


@pytest.mark.parametrize("ensure", [ensure_saliency_sample, ensure_inversion_sample])
def test_the_sample_is_never_written_into_a_folder_the_project_did_not_make(users_folder, ensure):
    before = listing(users_folder)
    with pytest.raises(SampleFolderError, match=f"{users_folder}: this folder holds files the project did not generate"):
        ensure(users_folder)
    assert listing(users_folder) == before


def test_dataset_sample_with_the_users_data_dir_is_refused_and_leaves_it_alone(users_folder):
    before = listing(users_folder)
    with pytest.raises(SampleFolderError, match="nothing in it is touched"):
        choice.resolve_saliency_dataset("sample", users_folder)
    assert listing(users_folder) == before


def test_auto_without_real_data_in_the_users_folder_uses_the_samples_own_folder_and_says_both(
        tmp_path, monkeypatch, capsys):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "MY_NOTES.txt").write_text("mine")
    made = []
    monkeypatch.setattr(choice, "ensure_saliency_sample", lambda root: made.append(root) or root)
    name, root = choice.resolve_saliency_dataset("auto", notes)
    sample_folder = choice.default_sample_dir("saliency")
    assert name == "sample" and made == [sample_folder] and root == sample_folder != notes
    said = capsys.readouterr().out
    assert f"no real saliency data set in {notes}" in said and f"using the generated sample in {sample_folder}" in said
    assert listing(notes) == {"MY_NOTES.txt": b"mine"}


def test_a_sample_folder_is_replaced_only_when_its_manifest_says_it_is_that_sample(tmp_path):
    root = ensure_saliency_sample(tmp_path / "new", images_per_category=1, seed=1)   # a new folder: made
    assert json.loads((root / "sample.json").read_text())["kind"] == "saliency"
    ensure_saliency_sample(root, images_per_category=1, seed=2)                      # its own: replaced
    assert json.loads((root / "sample.json").read_text())["seed"] == 2
    with pytest.raises(SampleFolderError, match="holds the generated saliency sample, not the inversion sample"):
        ensure_inversion_sample(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (ensure_saliency_sample(empty, images_per_category=1) / "sample.json").is_file()


def test_a_data_folder_that_is_a_file_is_a_clear_error_naming_it(tmp_path, monkeypatch):
    a_file = tmp_path / "data"
    a_file.write_text("a file where a folder should be")
    monkeypatch.setenv("SALIENCY_DATA_DIR", str(a_file))
    with pytest.raises(SampleFolderError, match=f"{a_file / 'cat2000-sample'}: the saliency sample could not be "
                                                "written there.*SALIENCY_DATA_DIR"):
        choice.resolve_saliency_dataset("sample")
    assert a_file.read_text() == "a file where a folder should be"


# -- 2. replacing a folder leaves a whole copy at every moment --------------------------------------

def two_versions(tmp_path):
    old, new = tmp_path / "tiny-imagenet-200", tmp_path / "incoming"
    for folder, text in ((old, "old"), (new, "new")):
        (folder / "train").mkdir(parents=True)
        (folder / "wnids.txt").write_text(text)
        (folder / "train" / "a.txt").write_text(text)
    return old, new


def test_a_kill_before_the_new_copy_is_in_keeps_the_old_one_whole_and_the_next_run_puts_it_back(
        tmp_path, monkeypatch):
    old, new = two_versions(tmp_path)
    real_rename = Path.rename

    def killed_at_the_move_in(self, target):
        if self == new:
            raise KeyboardInterrupt  # the process dies between renaming the old aside and moving the new in
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", killed_at_the_move_in)
    with pytest.raises(KeyboardInterrupt):
        io.replace_dir(new, old)
    monkeypatch.setattr(Path, "rename", real_rename)
    aside = list(tmp_path.glob(".tiny-imagenet-200.old.*"))
    assert not old.exists() and len(aside) == 1
    assert listing(aside[0]) == {"train/a.txt": b"old", "wnids.txt": b"old"}   # whole, wnids.txt included
    monkeypatch.setattr(io, "_owner_is_gone", lambda owner: True)               # the killed run is gone
    assert io.restore_set_aside(old) == old and (old / "wnids.txt").read_text() == "old"


def test_a_kill_while_the_old_copy_is_deleted_leaves_the_new_one_complete(tmp_path, monkeypatch):
    old, new = two_versions(tmp_path)
    monkeypatch.setattr(io.shutil, "rmtree", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        io.replace_dir(new, old)
    assert listing(old) == {"train/a.txt": b"new", "wnids.txt": b"new"}


def test_extracting_over_a_symlinked_data_folder_is_refused_naming_it_and_its_target_is_untouched(tmp_path):
    real = tmp_path / "big-disk" / "tiny-imagenet-200"
    real.mkdir(parents=True)
    (real / "wnids.txt").write_text("mine")
    data = tmp_path / "data"
    data.mkdir()
    (data / "tiny-imagenet-200").symlink_to(real)
    archive = tmp_path / "tiny.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tiny-imagenet-200/wnids.txt", "n01\n")
    with pytest.raises(DownloadError, match=f"{data / 'tiny-imagenet-200'} is a symbolic link"):
        extract([archive], data, ["tiny-imagenet-200"])
    assert (real / "wnids.txt").read_text() == "mine"


# -- 3 and 5. scored and resumed only on the files of the model's own split ----------------------------

def add_two_images_per_category(root: Path) -> list[str]:
    added = []
    for item in find_cat2000(root)[::10][:8]:
        for source in (item.stimulus, item.saliency_map, item.fixations):
            copy = source.with_name("new" + source.name)
            shutil.copyfile(source, copy)
        added.append(item.stimulus.with_name("new" + item.stimulus.name).relative_to(root).as_posix())
    return added


@pytest.mark.slow
def test_notebook_02_refuses_a_folder_that_gained_images_since_training_naming_them(cat2000):
    run = tiny_run(data_dir=str(cat2000))
    _, trained = trained_models.load_saliency_model(run.run.checkpoint)
    assert trained_models.trained_split(trained, str(cat2000), run.run.checkpoint).held_out_items == run.data.held_out_items
    add_two_images_per_category(cat2000)
    with pytest.raises(SplitChangedError, match=r"no longer matches the split .*new to it \(trainSet/"):
        trained_models.trained_split(trained, str(cat2000), run.run.checkpoint)


def same_size_pair(root: Path) -> tuple[Path, Path]:
    """Two training stimuli padded (after JPEG's end marker, which decoders ignore) to one byte size."""
    first, second = [item.stimulus for item in find_cat2000(root) if item.category == "ColourSingleton"][:2]
    size = max(first.stat().st_size, second.stat().st_size) + 16
    for path in (first, second):
        path.write_bytes(path.read_bytes().ljust(size, b"\0"))
    return first, second


@pytest.mark.slow
def test_pictures_replaced_by_others_of_the_same_byte_size_are_not_the_finished_run(cat2000):
    first, second = same_size_pair(cat2000)
    run = tiny_run(data_dir=str(cat2000), whole_dataset=True)
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b), second.write_bytes(a)                       # swapped: same names, same sizes
    with pytest.raises(CheckpointError, match=r"trained on other images than the folder holds now .*"
                                              r"2 replaced by other contents .*ColourSingleton/00[12]\.jpg"):
        tiny_run(data_dir=str(cat2000), whole_dataset=True)
    assert run.run.checkpoint.is_file()


def test_file_digests_are_read_once_and_again_only_for_a_changed_file(tmp_path, monkeypatch):
    files = []
    for index in range(3):
        files.append(tmp_path / f"{index}.bin")
        files[-1].write_bytes(bytes([index]) * 100)
    reads = []
    real = fingerprints.file_digest
    monkeypatch.setattr(fingerprints, "file_digest", lambda path: reads.append(Path(path).name) or real(path))
    first = fingerprints.file_digests(files)
    assert sorted(reads) == ["0.bin", "1.bin", "2.bin"]
    reads.clear()
    assert fingerprints.file_digests(files) == first and reads == []
    files[1].write_bytes(b"\1" * 99 + b"\2")                           # same size, new contents and time
    again = fingerprints.file_digests(files)
    assert reads == ["1.bin"] and again[files[1]] != first[files[1]] and again[files[0]] == first[files[0]]


def image_folder(root: Path) -> RunData:
    for split, count in (("train", 3), ("val", 2)):
        (root / split / "n01").mkdir(parents=True, exist_ok=True)
        for index in range(count):
            Image.new("RGB", (8, 8), (40 * index, 90, 30 * count)).save(root / split / "n01" / f"{split}{index}.png")
    train = [ImageItem("n01", p) for p in sorted((root / "train" / "n01").iterdir())]
    held_out = [ImageItem("n01", p) for p in sorted((root / "val" / "n01").iterdir())]
    return RunData("imagenet", root, train, held_out)


def test_part_2_refuses_a_folder_whose_training_and_test_files_were_swapped(tmp_path):
    data = image_folder(tmp_path / "imagenet")
    stored = data.split_files()
    check_trained_on(data, stored, None, "fc8.pt")                       # the same folder: accepted
    train_file, test_file = data.train_items[0].path, data.held_out_items[0].path
    a, b = train_file.read_bytes(), test_file.read_bytes()
    train_file.write_bytes(b), test_file.write_bytes(a)
    with pytest.raises(SplitChangedError, match=r"test split: 1 replaced by other contents \(val/n01/val0\.png\); "
                                                r"train split: 1 replaced by other contents \(train/n01/train0\.png\)"):
        check_trained_on(data, stored, None, "fc8.pt")


def test_a_checkpoint_from_before_the_files_were_stored_is_checked_by_its_fingerprint(tmp_path):
    data = image_folder(tmp_path / "imagenet")
    fingerprint = data.fingerprint()
    check_trained_on(data, None, fingerprint, "old.pt")
    (tmp_path / "imagenet" / "val" / "n01" / "val9.png").write_bytes(b"x")
    data.held_out_items.append(ImageItem("n01", tmp_path / "imagenet" / "val" / "n01" / "val9.png"))
    with pytest.raises(SplitChangedError, match="old.pt"):
        check_trained_on(data, None, fingerprint, "old.pt")


# -- 6 and 7. read at their depth; fixations outside the frame dropped, said ---------------------------

def test_16_bit_images_are_scaled_to_8_bits_not_clipped(tmp_path):
    values = np.array([[0, 257 * 100, 65535, 257 * 3]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "wide.png")
    assert Image.open(tmp_path / "wide.png").mode.startswith("I;16")      # Pillow's own reading of it
    assert np.asarray(load_gray(tmp_path / "wide.png")).tolist() == [[0, 100, 255, 3]]
    assert np.asarray(load_rgb(tmp_path / "wide.png"))[0, :, 0].tolist() == [0, 100, 255, 3]


# -- 8 and 9. found before the first step, said plainly ----------------------------------------------

@pytest.mark.slow
def test_a_truncated_test_image_stops_the_run_before_training(cat2000, workspace):
    run_data = saliency.load_data(SaliencySpec(**TINY, data_dir=str(cat2000)))
    stimulus = run_data.held_out_items[0].stimulus
    stimulus.write_bytes(stimulus.read_bytes()[: stimulus.stat().st_size * 2 // 3])   # header intact
    before = set((workspace / "checkpoint").glob("*.pt"))
    with pytest.raises(DataError, match=f"{stimulus.name}: cannot be decoded"):
        tiny_run(data_dir=str(cat2000))
    assert set((workspace / "checkpoint").glob("*.pt")) == before


def test_a_checkpoint_folder_that_cannot_be_written_stops_the_run_before_step_1(cat2000, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "checkpoints"
    blocker.write_text("a file")
    monkeypatch.setenv("SALIENCY_CHECKPOINT_DIR", str(blocker))
    with pytest.raises(OSError, match=f"{blocker}: the checkpoint folder cannot be written.*SALIENCY_CHECKPOINT_DIR"):
        saliency.train(SaliencySpec(**{**TINY, "epochs": 50}, data_dir=str(cat2000)), device="cpu", progress=True)
    assert "epoch" not in capsys.readouterr().out


def test_an_empty_fixation_file_is_an_error_naming_it(small_sample, tmp_path):
    root = shutil.copytree(small_sample, tmp_path / "c")
    item = find_cat2000(root)[0]
    savemat(item.fixations, {"fixLocs": np.zeros((0, 0))})
    for held_out in (False, True):
        with pytest.raises(DataError, match=f"{item.fixations}.*0×0"):
            check_saliency_items([] if held_out else [item], [item] if held_out else [], progress=False)


# -- 10 and 11. durable writes; one run at a time; RETRAIN's files named as such ---------------------

def test_durable_writes_sync_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(io, "fsync_path", lambda path: synced.append(Path(path)))
    target = tmp_path / "record.json"
    io.write_json_atomic(target, {"a": 1})
    assert len(synced) == 2 and synced[0].name.startswith(".record.json.tmp.") and synced[1] == tmp_path
    synced.clear()
    with io.atomic_path(tmp_path / "cache.npz") as tmp:   # caches are not synced: they can be remade
        tmp.write_bytes(b"x")
    assert synced == []


def test_checkpoints_are_written_durably(cat2000, tmp_path, monkeypatch):
    monkeypatch.setenv("SALIENCY_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))   # trained here, not loaded
    synced = []
    monkeypatch.setattr(io, "fsync_path", lambda path: synced.append(Path(path)))
    run = tiny_run(data_dir=str(cat2000))
    assert any(p.name.startswith(f".{run.run.checkpoint.name}.tmp.") for p in synced)
    assert run.run.checkpoint.parent in synced


def test_a_second_run_of_the_same_checkpoint_waits_for_the_first(tmp_path, capsys):
    target = tmp_path / "run.pt"
    order = []

    def second():
        with checkpoints.held(target, "training run.pt"):
            order.append("second")

    with checkpoints.held(target, "training run.pt"):
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.3)
        order.append("first done")
    waiting.join(5)
    assert order == ["first done", "second"]
    assert ".run.pt.lock is held by another process (training run.pt): waiting" in capsys.readouterr().out


def test_a_lock_left_by_a_killed_run_does_not_stop_the_next(tmp_path):
    target = tmp_path / "run.pt"
    # the killed run takes the lock checkpoints.held takes, without importing torch (the test stays quick)
    killed = subprocess.run([sys.executable, "-c", "import os; from pathlib import Path\n"
                             "from helpers.outputs import held_or_waited_for\n"
                             f"with held_or_waited_for(Path({str(tmp_path / '.run.pt.lock')!r}), str): os._exit(9)"],
                            cwd=Path(__file__).resolve().parents[1])
    assert killed.returncode == 9 and (tmp_path / ".run.pt.lock").exists()
    finished = []

    def next_run():
        with checkpoints.held(target, "training run.pt"):
            finished.append("trained")

    thread = threading.Thread(target=next_run, daemon=True)
    thread.start()
    thread.join(5)
    assert finished == ["trained"]


@pytest.mark.slow
def test_a_checkpoint_set_aside_by_retrain_is_not_called_one_of_other_data(cat2000, capsys):
    first = tiny_run(data_dir=str(cat2000))
    saliency.train(SaliencySpec(**TINY, data_dir=str(cat2000)), device="cpu", progress=False, retrain=True)
    capsys.readouterr()
    again = tiny_run(data_dir=str(cat2000))
    assert again.run.loaded_finished and again.run.checkpoint == first.run.checkpoint
    assert list(again.run.checkpoint.parent.glob(f"{again.run.checkpoint.stem}.replaced-*.pt"))
    assert "trained on other data" not in capsys.readouterr().out


def test_a_users_file_named_like_a_checkpoint_does_not_stop_the_search_for_a_trained_network(tmp_path, monkeypatch):
    monkeypatch.setenv("SALIENCY_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("SALIENCY_REPORT_DIR", str(tmp_path / "report"))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "saliency_backup_20240101.pt").write_bytes(b"my own notes, not a torch file")
    assert trained_models.training_record() is None
    assert (tmp_path / "checkpoints" / "saliency_backup_20240101.pt").read_bytes() == b"my own notes, not a torch file"


def test_a_report_folder_that_is_a_file_stops_the_run_before_step_1(cat2000, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "report"
    blocker.write_text("a file")
    monkeypatch.setenv("SALIENCY_REPORT_DIR", str(blocker))
    monkeypatch.setenv("SALIENCY_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    with pytest.raises(OSError, match=f"{blocker}: is a file, not a folder.*SALIENCY_REPORT_DIR"):
        saliency.train(SaliencySpec(**TINY, data_dir=str(cat2000)), device="cpu", progress=True)
    assert "epoch" not in capsys.readouterr().out


def test_weights_of_another_shape_are_refused_naming_the_file(tmp_path):
    import torch
    from torch import nn

    from helpers.spec import Spec
    from helpers.training import fit

    spec = Spec(epochs=1, batch_size=4, learning_rate=1e-3)
    data = torch.utils.data.TensorDataset(torch.randn(8, 3), torch.randn(8, 2))
    loader = torch.utils.data.DataLoader(data, batch_size=4)
    fit(nn.Linear(3, 2), loader, None, spec, tmp_path / "run.pt", device="cpu", progress=False, loss_fn=nn.MSELoss())
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    state["model"]["weight"] = torch.zeros(5, 3)          # edited by hand: no longer the network's shape
    torch.save(state, tmp_path / "run.pt")
    with pytest.raises(CheckpointError, match=r"run\.pt: its weights do not fit the network the code builds "
                                              r"\(size mismatch for weight"):
        fit(nn.Linear(3, 2), loader, None, spec, tmp_path / "run.pt", device="cpu", progress=False, loss_fn=nn.MSELoss())


def test_a_pdf_cut_off_by_a_full_disk_is_not_taken_for_the_report(tmp_path):
    from helpers.report import pdf_is_whole

    whole = b"%PDF-1.7\n" + b"x" * 5000 + b"\n%%EOF\n"
    (tmp_path / "whole.pdf").write_bytes(whole)
    (tmp_path / "cut.pdf").write_bytes(whole[:4096])
    assert pdf_is_whole(tmp_path / "whole.pdf") and not pdf_is_whole(tmp_path / "cut.pdf")


def test_ctrl_c_on_the_training_command_is_one_line_and_exit_status_130(monkeypatch, capsys):
    from helpers import train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(train.RECIPES, "saliency", interrupted)
    assert train.main(["saliency", "--profile", "smoke"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["python -m helpers.train saliency: stopped (Ctrl-C); the last checkpoint is kept — run the same "
                   "command again to resume from it"]


def finished_state(spec, **changes) -> dict:
    """A finished run's checkpoint as the loop writes it (three epochs, its spec and metadata)."""
    state = {"model": {"weight": torch.ones(2, 2)}, "optimizer": None, "scheduler": {}, "rng": checkpoints.Checkpointer.random_states(),
             "epoch": 3, "step_in_epoch": 0, "partial": [0.0, 0], "epochs_planned": 3, "history": [{"train_loss": 1.0}] * 3,
             "spec": spec.as_dict(), "metadata": {"dataset": "sample"}}
    return {**state, **changes}


@pytest.mark.parametrize("edit, refusal", [
    ({"epoch": 99}, "says 99 epochs done of 3 planned, and its history holds 3"),
    ({"model": {"weight": torch.tensor([[1.0, float("nan")], [0.0, 1.0]])}}, "weights that are not finite \\(in weight\\)"),
])
def test_a_hand_edited_checkpoint_is_refused_naming_what_cannot_be(tmp_path, edit, refusal):
    from helpers.spec import SaliencySpec

    path = tmp_path / "saliency_sample_0123abcd.pt"
    torch.save(finished_state(SaliencySpec(), **edit), path)
    with pytest.raises(checkpoints.CheckpointError, match=refusal):
        checkpoints.read_checkpoint(path)
    torch.save(finished_state(SaliencySpec()), tmp_path / "whole.pt")
    assert checkpoints.read_checkpoint(tmp_path / "whole.pt")["epoch"] == 3
