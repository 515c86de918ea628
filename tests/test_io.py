"""What the project writes: atomically, with the permissions the user's umask gives, no leftovers."""
import os
import socket
import stat

import pytest

from helpers.io import atomic_path, staging_dir, write_json_atomic, write_text_atomic


@pytest.fixture
def umask():
    """Set a umask for one test and restore the previous one afterwards."""
    previous = os.umask(0o022)
    yield lambda value: os.umask(value)
    os.umask(previous)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, file_mode, folder_mode", [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775),
                                                          (0o077, 0o600, 0o700)])
def test_files_and_folders_get_the_permissions_of_the_umask(tmp_path, umask, mask, file_mode, folder_mode):
    umask(mask)
    written = write_json_atomic(tmp_path / "report" / "metrics.json", {"a": 1})
    assert mode(written) == file_mode
    with staging_dir(tmp_path / "sample") as staging:
        assert mode(staging) == folder_mode
        staging.rename(tmp_path / "sample")
    assert mode(tmp_path / "sample") == folder_mode


def test_the_samples_and_figures_are_readable_by_the_group_and_others(tmp_path, umask, monkeypatch):
    from helpers import samples

    umask(0o022)
    monkeypatch.setenv("SALIENCY_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(samples, "PHOTOGRAPHS", {"coffee": samples.PHOTOGRAPHS["coffee"]})
    root = samples.write_inversion_sample(tmp_path / "sample", train_per_photo=1, test_per_photo=1,
                                          include_imagenet=False)
    assert mode(root) == 0o755 and mode(next((root / "val").iterdir())) == 0o755
    from helpers import plots

    import matplotlib.pyplot as plt
    figure = plt.figure()
    written = plots.save_figure(figure, "figure", folder=tmp_path / "figures")
    plt.close(figure)
    assert mode(written[0]) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = write_text_atomic(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_leftovers_of_a_killed_process_are_removed_and_those_of_a_live_one_kept(tmp_path):
    host = socket.gethostname()
    dead = tmp_path / f".c.pt.tmp.{host}-999999999.abcd1234"     # no such process
    alive = tmp_path / f".c.pt.tmp.{host}-{os.getppid()}.abcd1234"  # a running process: another run's write
    elsewhere = tmp_path / ".c.pt.tmp.another-host-42.abcd1234"    # another machine's: not ours to judge
    for path in (dead, alive, elsewhere):
        path.write_text("partial")
    write_text_atomic(tmp_path / "c.pt", "new")
    assert not dead.exists() and alive.exists() and elsewhere.exists()


def test_a_marked_block_is_replaced_and_nothing_else_and_a_missing_marker_is_named(tmp_path):
    from helpers.io import marked_block, replace_marked_block

    page = tmp_path / "README.md"
    page.write_text("intro\n<!-- a:begin -->\nold\n<!-- a:end -->\noutro <!-- a:end -->\n")
    replace_marked_block(page, "<!-- a:begin -->\n", "\n<!-- a:end -->", "new\ntwo lines")
    assert page.read_text() == "intro\n<!-- a:begin -->\nnew\ntwo lines\n<!-- a:end -->\noutro <!-- a:end -->\n"
    assert marked_block(page.read_text(), "<!-- a:begin -->\n", "\n<!-- a:end -->") == "new\ntwo lines"
    with pytest.raises(ValueError, match=r"README\.md has no '<!-- b:begin -->' marker"):
        replace_marked_block(page, "<!-- b:begin -->\n", "\n<!-- b:end -->", "x")
    with pytest.raises(ValueError, match="has no '<!-- b:end -->' marker"):
        marked_block("<!-- a:begin -->\n", "<!-- a:begin -->\n", "\n<!-- b:end -->")
