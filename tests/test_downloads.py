"""Downloads against a local HTTP server on 127.0.0.1 serving generated archives."""
import hashlib
import http.server
import io
import json
import threading
import zipfile
from functools import partial

import pytest

from helpers import downloads
from helpers.downloads import DownloadError, download, extract, fetch


def sha256_file(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def md5_file(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with ``Range: bytes=N-`` support (206 Partial Content), as real servers offer."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        requested = self.headers.get("Range")
        try:
            data = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return None
        start = int(requested.split("=")[1].split("-")[0]) if requested else 0
        if start >= len(data) and requested:
            self.send_error(416)
            return None
        self.send_response(206 if requested else 200)
        self.send_header("Content-Length", str(len(data) - start))
        if requested:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        self.server.requests.append(requested)
        cut = self.server.cut_after.pop(0) if self.server.cut_after else None  # a connection that closes early
        return io.BytesIO(data[start:] if cut is None else data[start:start + cut])


class Requests(list):
    """The Range headers the server saw; ``cut_after`` lists byte counts after which to close early."""

    def __init__(self):
        super().__init__()
        self.cut_after = []


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(served)))
    httpd.requests = Requests()
    httpd.cut_after = httpd.requests.cut_after
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests
    httpd.shutdown()
    httpd.server_close()


def recorded(tmp_path):
    """The SHA-256 recorded beside the data (the repository's data/checksums.json is never written)."""
    path = tmp_path / "data" / "downloads" / "recorded-checksums.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_a_good_archive_is_downloaded_recorded_and_extracted(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/Stimuli/Action/001.jpg": b"jpeg", "trainSet/readme.txt": b"hi"})
    checksums = tmp_path / "checksums.json"
    target = download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=checksums)
    assert (target / "trainSet" / "Stimuli" / "Action" / "001.jpg").read_bytes() == b"jpeg"
    assert recorded(tmp_path)["trainSet.zip"]["sha256"] == sha256_file(served / "trainSet.zip")
    assert not checksums.exists()  # the published table is only read
    assert not list((tmp_path / "data").glob(".*extracting*"))  # no staging folder left behind


def test_a_later_download_is_checked_against_the_recorded_hash(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/a.txt": b"changed upstream"})
    checksums = tmp_path / "checksums.json"
    checksums.write_text(json.dumps({"trainSet.zip": {"md5": "", "sha256": "0" * 64}}))
    with pytest.raises(DownloadError, match="SHA-256 .* does not match the expected 0000"):
        download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=checksums)
    assert not (tmp_path / "data" / "cat2000").exists()
    assert not list((tmp_path / "data" / "downloads").iterdir())  # the bad file is deleted


def test_a_truncated_archive_is_refused_and_nothing_is_extracted(server, tmp_path):
    served, url, _ = server
    whole = make_zip(tmp_path / "whole.zip", {f"trainSet/{i}.txt": b"x" * 5000 for i in range(20)}).read_bytes()
    (served / "trainSet.zip").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DownloadError, match="not a complete zip archive"):
        download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=tmp_path / "c.json")
    assert not (tmp_path / "data" / "cat2000").exists()
    assert not list((tmp_path / "data").glob(".*extracting*"))


def test_path_traversal_members_are_refused(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/ok.txt": b"ok", "../../evil.txt": b"pwned"})
    with pytest.raises(DownloadError, match=r"'\.\./\.\./evil\.txt'.*outside"):
        download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=tmp_path / "c.json")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "data" / "cat2000").exists()


def test_absolute_members_are_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"/etc/owned": b"x"})
    with pytest.raises(DownloadError, match="absolute path"):
        extract([archive], tmp_path / "out")


def test_a_partial_download_is_resumed(server, tmp_path):
    served, url, requests = server
    payload = bytes(range(256)) * 400
    (served / "big.bin").write_bytes(payload)
    destination = tmp_path / "big.bin"
    (tmp_path / "big.bin.part").write_bytes(payload[:30_000])
    fetch(f"{url}/big.bin", destination, progress=False)
    assert destination.read_bytes() == payload and requests == ["bytes=30000-"]


def test_no_network_is_a_clear_message(tmp_path):
    with pytest.raises(DownloadError, match="network connection"):
        fetch("http://127.0.0.1:9/none.zip", tmp_path / "none.zip", progress=False, timeout=5)


def test_salicon_prints_manual_steps(capsys, tmp_path):
    assert download("salicon", tmp_path) is None
    assert "Google Drive" in capsys.readouterr().out


def test_unknown_data_set_names_the_choices(tmp_path):
    with pytest.raises(DownloadError, match="cat2000"):
        download("imagenet-22k", tmp_path)


def test_every_direct_download_points_at_an_official_host():
    urls = [url for source in downloads.DATASETS.values() for url, _, _ in source.archives]
    assert {url.split("/")[2] for url in urls} == {"saliency.mit.edu", "people.csail.mit.edu", "cs231n.stanford.edu"}
    assert all(url.startswith("https://") for url in urls)


# --- the published checksums, and what is trusted --------------------------------------------------

def test_the_published_md5_sums_are_in_the_committed_checksums_file():
    table = downloads.read_checksums()  # data/checksums.json, in the repository
    assert table["trainSet.zip"]["md5"] == "56ad5c77e6c8f72ed9ef2901628d6e48"
    assert table["ALLSTIMULI.zip"]["md5"] == "0d7df8b954ecba69b6796e77b9afe4b6"
    archives = {name for source in downloads.DATASETS.values() for _, name, _ in source.archives}
    assert archives <= set(table)  # every archive has an entry, with or without a published sum


def test_an_archive_matching_its_published_md5_is_used_and_its_sha256_recorded(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/Stimuli/A/001.jpg": b"jpeg"})
    checksums = tmp_path / "checksums.json"
    checksums.write_text(json.dumps({"trainSet.zip": {"md5": md5_file(served / "trainSet.zip"), "sha256": ""}}))
    download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=checksums)
    assert recorded(tmp_path)["trainSet.zip"]["sha256"] == sha256_file(served / "trainSet.zip")
    assert json.loads(checksums.read_text()) == {"trainSet.zip": {"md5": md5_file(served / "trainSet.zip"), "sha256": ""}}


def test_an_archive_not_matching_its_published_md5_is_refused_and_nothing_recorded(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/a.txt": b"not the published file"})
    checksums = tmp_path / "checksums.json"
    checksums.write_text(json.dumps({"trainSet.zip": {"md5": "56ad5c77e6c8f72ed9ef2901628d6e48", "sha256": ""}}))
    with pytest.raises(DownloadError, match="published MD5 .* does not match"):
        download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=checksums)
    assert json.loads(checksums.read_text())["trainSet.zip"]["sha256"] == "" and recorded(tmp_path) == {}
    assert not (tmp_path / "data" / "cat2000").exists()


def test_a_connection_that_closes_early_leaves_a_part_file_that_the_next_run_resumes(server, tmp_path):
    served, url, requests = server
    whole = make_zip(served / "trainSet.zip", {f"trainSet/{i}.bin": bytes(range(256)) * 40 for i in range(30)})
    size = whole.stat().st_size
    requests.cut_after.append(size // 2)  # the server promises every byte and sends half
    checksums = tmp_path / "checksums.json"
    with pytest.raises(DownloadError, match=f"closed after {size // 2:,} of {size:,} bytes"):
        download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=checksums)
    downloaded = tmp_path / "data" / "downloads"
    assert not (downloaded / "trainSet.zip").exists()
    assert (downloaded / "trainSet.zip.part").stat().st_size == size // 2
    assert not checksums.exists() and recorded(tmp_path) == {}  # no hash of a half file
    download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=checksums)
    assert requests[-1] == f"bytes={size // 2}-"
    assert (downloaded / "trainSet.zip").read_bytes() == whole.read_bytes()
    assert recorded(tmp_path)["trainSet.zip"]["sha256"] == sha256_file(whole)


def test_an_archive_refused_at_extraction_has_no_hash_recorded(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/ok.txt": b"ok", "../evil.txt": b"x"})
    checksums = tmp_path / "checksums.json"
    with pytest.raises(DownloadError, match="outside"):
        download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=checksums)
    assert not checksums.exists() and recorded(tmp_path) == {}


def test_a_file_placed_by_hand_is_checked_and_used_without_the_network(tmp_path):
    downloads_folder = tmp_path / "data" / "downloads"
    downloads_folder.mkdir(parents=True)
    placed = make_zip(downloads_folder / "trainSet.zip", {"trainSet/Stimuli/A/001.jpg": b"jpeg"})
    checksums = tmp_path / "checksums.json"
    checksums.write_text(json.dumps({"trainSet.zip": {"md5": md5_file(placed), "sha256": ""}}))
    target = download("cat2000", tmp_path / "data", base_url="http://127.0.0.1:9", progress=False,
                      checksums=checksums)  # port 9: nothing listens, so any network use would fail
    assert (target / "trainSet" / "Stimuli" / "A" / "001.jpg").read_bytes() == b"jpeg"
    placed.write_bytes(placed.read_bytes() + b"tampered")
    with pytest.raises(DownloadError, match="SHA-256 .* does not match"):
        download("cat2000", tmp_path / "data", base_url="http://127.0.0.1:9", progress=False, checksums=checksums)


def test_an_archive_without_a_published_checksum_says_so(server, tmp_path, capsys):
    served, url, _ = server
    make_zip(served / "tiny-imagenet-200.zip", {"tiny-imagenet-200/wnids.txt": b"n0\n"})
    download("tiny-imagenet", tmp_path / "data", base_url=url, progress=False, checksums=tmp_path / "c.json")
    assert "gives no checksum" in capsys.readouterr().out


def test_leftovers_of_a_killed_extraction_are_removed_by_the_next_run(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/a.txt": b"a"})
    stale = tmp_path / "data" / ".cat2000.extracting.{}-999999999.dead".format(__import__("socket").gethostname())
    stale.mkdir(parents=True)
    download("cat2000", tmp_path / "data", base_url=url, progress=False, checksums=tmp_path / "c.json")
    assert not stale.exists()


def test_https_falls_back_to_http_when_no_secure_connection_can_be_made(server, tmp_path, capsys):
    served, url, _ = server
    (served / "f.bin").write_bytes(b"payload")
    fetch(url.replace("http://", "https://") + "/f.bin", tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == b"payload"
    assert "NO checksum guards it" in capsys.readouterr().out



# --- an archive touches only its own folder ------------------------------------------------------

def other_data_sets(data):
    """data/cat2000 and data/mit1003 as a user has them, to check that nothing touches them."""
    (data / "cat2000" / "trainSet" / "Stimuli" / "A").mkdir(parents=True)
    (data / "cat2000" / "trainSet" / "Stimuli" / "A" / "001.jpg").write_bytes(b"my cat2000")
    (data / "mit1003" / "ALLSTIMULI").mkdir(parents=True)
    (data / "mit1003" / "ALLSTIMULI" / "i1.jpeg").write_bytes(b"my mit1003")
    return {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}


def test_an_archive_with_members_outside_its_own_folder_changes_nothing(tmp_path):
    """A hand-placed tiny-imagenet-200.zip whose top-level members are cat2000/... and a file mit1003."""
    data = tmp_path / "data"
    before = other_data_sets(data)
    (data / "downloads").mkdir()
    make_zip(data / "downloads" / "tiny-imagenet-200.zip", {"cat2000/x.txt": b"x", "mit1003": b"a file"})
    committed = downloads.checksums_file().read_bytes()
    with pytest.raises(DownloadError, match=r"'cat2000/x.txt' is outside the archive's expected folder "
                                            r"tiny-imagenet-200/.*nothing was extracted"):
        download("tiny-imagenet", data, base_url="http://127.0.0.1:9", progress=False)
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file() and "downloads" not in p.parts} == before
    assert (data / "mit1003").is_dir() and not (data / "tiny-imagenet-200").exists()
    assert downloads.checksums_file().read_bytes() == committed and recorded(tmp_path) == {}


def test_a_good_archive_replaces_only_its_own_folder_and_records_its_hash_beside_the_data(tmp_path, capsys):
    data = tmp_path / "data"
    before = other_data_sets(data)
    (data / "downloads").mkdir()
    placed = make_zip(data / "downloads" / "tiny-imagenet-200.zip",
                      {"tiny-imagenet-200/wnids.txt": b"n0\n", "__MACOSX/._wnids.txt": b"junk"})
    committed = downloads.checksums_file().read_bytes()
    target = download("tiny-imagenet", data, base_url="http://127.0.0.1:9", progress=False)
    assert target == data / "tiny-imagenet-200" and (target / "wnids.txt").read_bytes() == b"n0\n"
    assert {p: p.read_bytes() for p in before} == before and not (data / "__MACOSX").exists()
    assert downloads.checksums_file().read_bytes() == committed
    assert recorded(tmp_path)["tiny-imagenet-200.zip"]["sha256"] == sha256_file(placed)
    assert "recorded in" in capsys.readouterr().out


def test_a_download_replaces_only_the_archives_own_files_and_keeps_every_other_file_there(tmp_path):
    """Over a folder the user unpacked by hand, or one an earlier download extracted and the user added to: each
    file of the (checked) archive replaces the file of its name; a user's notes and added images stay."""
    data = tmp_path / "data"
    before = other_data_sets(data)                        # data/cat2000/trainSet as a user has it, and more
    (data / "tiny-imagenet-200").mkdir()
    (data / "tiny-imagenet-200" / "MY_NOTES.txt").write_bytes(b"mine")
    (data / "downloads").mkdir()
    make_zip(data / "downloads" / "trainSet.zip", {"trainSet/Stimuli/A/001.jpg": b"downloaded"})
    make_zip(data / "downloads" / "tiny-imagenet-200.zip", {"tiny-imagenet-200/wnids.txt": b"n0\n"})
    fetch = dict(base_url="http://127.0.0.1:9", progress=False, checksums=tmp_path / "c.json")
    download("tiny-imagenet", data, **fetch)
    assert (data / "tiny-imagenet-200" / "wnids.txt").read_bytes() == b"n0\n"
    extracted = download("cat2000", data, **fetch) / "trainSet" / "Stimuli" / "A" / "001.jpg"
    extracted.write_bytes(b"damaged")
    (extracted.parent / "002_added_by_me.jpg").write_bytes(b"my image")
    download("cat2000", data, **fetch)
    assert extracted.read_bytes() == b"downloaded" and (extracted.parent / "002_added_by_me.jpg").read_bytes() == b"my image"
    assert (data / "tiny-imagenet-200" / "MY_NOTES.txt").read_bytes() == b"mine"
    assert all(path.read_bytes() == content for path, content in before.items() if path != extracted)
    assert not list(data.rglob(".*extracting*"))


@pytest.mark.parametrize("members, message", [
    ({"trainSet/link": "symlink"}, "is a symbolic link"),
    ({"trainSet/a": b"file", "trainSet/a/b.txt": b"x"}, "'trainSet/a' is both a file and a folder"),
])
def test_a_symlink_or_a_file_where_a_folder_goes_is_a_download_error(tmp_path, members, message):
    archive_path = tmp_path / "trainSet.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for name, content in members.items():
            if content == "symlink":
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o120777 << 16)
                archive.writestr(info, "/etc/passwd")
            else:
                archive.writestr(name, content)
    with pytest.raises(DownloadError, match=message):
        extract([archive_path], tmp_path / "data" / "cat2000", ["trainSet"])
    assert not (tmp_path / "data" / "cat2000").exists()
