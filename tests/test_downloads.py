"""Downloads against a local HTTP server on 127.0.0.1 serving generated archives."""
import http.server
import io
import json
import threading
import zipfile
from functools import partial

import pytest

from helpers import downloads
from helpers.downloads import DownloadError, download, extract, fetch, sha256_file


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
        self.end_headers()
        self.server.requests.append(requested)
        return io.BytesIO(data[start:])


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(served)))
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests
    httpd.shutdown()
    httpd.server_close()


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
    recorded = json.loads(checksums.read_text())
    assert recorded == {"trainSet.zip": sha256_file(served / "trainSet.zip")}
    assert not list((tmp_path / "data").glob(".*extracting*"))  # no staging folder left behind


def test_a_later_download_is_checked_against_the_recorded_hash(server, tmp_path):
    served, url, _ = server
    make_zip(served / "trainSet.zip", {"trainSet/a.txt": b"changed upstream"})
    checksums = tmp_path / "checksums.json"
    checksums.write_text(json.dumps({"trainSet.zip": "0" * 64}))
    with pytest.raises(DownloadError, match="does not match the recorded 0000"):
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
    digest = fetch(f"{url}/big.bin", destination, progress=False)
    assert destination.read_bytes() == payload and requests == ["bytes=30000-"]
    assert digest == sha256_file(destination)


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
    hosts = {url.split("/")[2] for source in downloads.DATASETS.values() for url, _ in source.archives}
    assert hosts == {"saliency.mit.edu", "people.csail.mit.edu", "cs231n.stanford.edu"}
