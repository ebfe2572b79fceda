"""The downloader against a local HTTP server serving small generated archives."""
import dataclasses
import gzip
import hashlib
import io
import json
import os
import pickle
import socket
import struct
import subprocess
import sys
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from course_utils import download
from course_utils.data_utils import CIFAR10_FILES, load_CIFAR10
from course_utils.download import SOURCES, Remote, main

REPO = Path(__file__).resolve().parents[1]
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


# -------------------------------------------------------------------------- local server

class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.log.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        truncated = self.path.startswith("/short/")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + (1000 if truncated else 0)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.log = {}, []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# ------------------------------------------------------------------------ generated data

def md5(data):
    return hashlib.md5(data).hexdigest()


def tar_gz(members, symlink=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink[0])
            info.type, info.linkname = tarfile.SYMTYPE, symlink[1]
            tar.addfile(info)
    return buf.getvalue()


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def cifar_members(n=3):
    members = {}
    for b, name in enumerate(CIFAR10_FILES):
        batch = {b"data": np.full((n, 3072), b, dtype=np.uint8), b"labels": [b] * n}
        members[f"cifar-10-batches-py/{name}"] = pickle.dumps(batch, protocol=2)
    members["cifar-10-batches-py/readme.html"] = b"<p>test</p>"
    return members


def idx_gz(array, mtime=0):
    array = np.asarray(array, dtype=np.uint8)
    raw = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    return gzip.compress(raw, mtime=mtime), md5(raw)


def fashion_files():
    arrays = {
        "train-images-idx3-ubyte.gz": np.zeros((4, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(4),
        "t10k-images-idx3-ubyte.gz": np.ones((2, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(2),
    }
    return {name: idx_gz(a) for name, a in arrays.items()}


def coco_members(prefix="coco_captioning/"):
    return {f"{prefix}coco2014_captions.h5": HDF5_MAGIC + b"\0" * 64,
            f"{prefix}coco2014_vocab.json": json.dumps({"idx_to_word": ["<NULL>"]}).encode(),
            f"{prefix}train2014_urls.txt": b"http://example.invalid/1.jpg\n"}


def use_archive(monkeypatch, server, name, filename, data, md5sum="auto", path=""):
    """Serve ``data`` and point source ``name`` at it, with a matching checksum by default."""
    server.files[f"{path}/{filename}"] = data
    files = (Remote(filename, md5(data) if md5sum == "auto" else md5sum),)
    monkeypatch.setitem(SOURCES, name, dataclasses.replace(SOURCES[name], files=files))
    monkeypatch.setenv(SOURCES[name].url_env, server.url + path)


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


# ------------------------------------------------------------------------------- CIFAR-10

def test_cifar10_download_extract_and_rerun_skips(server, monkeypatch, tmp_path, capsys):
    use_archive(monkeypatch, server, "cifar10", "cifar-10-python.tar.gz", tar_gz(cifar_members()))
    dest = tmp_path / "datasets"
    assert main(["cifar10", "--dest", str(dest)]) == 0
    assert os.listdir(dest) == ["cifar-10-batches-py"]  # no archive, no staging folder left
    Xtr, ytr, Xte, yte = load_CIFAR10(dest / "cifar-10-batches-py")
    assert Xtr.shape == (15, 32, 32, 3) and Xte.shape == (3, 32, 32, 3)
    assert ytr.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4] and np.all(Xte == 5)
    assert "ready in" in capsys.readouterr().out

    assert main(["cifar10", "--dest", str(dest)]) == 0
    assert "already present and verified" in capsys.readouterr().out
    assert server.log == ["/cifar-10-python.tar.gz"]  # the second run did not download


def test_checksum_mismatch_leaves_nothing(server, monkeypatch, tmp_path, capsys):
    use_archive(monkeypatch, server, "cifar10", "cifar-10-python.tar.gz", tar_gz(cifar_members()),
                md5sum="0" * 32)
    dest = tmp_path / "new" / "datasets"
    assert main(["cifar10", "--dest", str(dest)]) == 1
    assert "checksum mismatch for cifar-10-python.tar.gz" in capsys.readouterr().err
    assert listing(tmp_path) == []  # not even the folders it would have created


def test_damaged_copy_is_replaced_and_kept_when_the_new_one_fails(server, monkeypatch, tmp_path, capsys):
    dest = tmp_path / "datasets"
    old = dest / "cifar-10-batches-py"
    old.mkdir(parents=True)
    (old / "data_batch_1").write_bytes(b"damaged")
    use_archive(monkeypatch, server, "cifar10", "cifar-10-python.tar.gz", tar_gz(cifar_members()),
                md5sum="0" * 32)
    assert main(["cifar10", "--dest", str(dest)]) == 1
    assert listing(dest) == ["cifar-10-batches-py", "cifar-10-batches-py/data_batch_1"]
    assert (old / "data_batch_1").read_bytes() == b"damaged"

    use_archive(monkeypatch, server, "cifar10", "cifar-10-python.tar.gz", tar_gz(cifar_members()))
    assert main(["cifar10", "--dest", str(dest)]) == 0
    assert "incomplete" in capsys.readouterr().out
    assert sorted(os.listdir(old)) == sorted([*CIFAR10_FILES, "readme.html"])
    assert os.listdir(dest) == ["cifar-10-batches-py"]


def test_archive_without_the_batches_is_refused(server, monkeypatch, tmp_path, capsys):
    members = cifar_members()
    del members["cifar-10-batches-py/test_batch"]
    use_archive(monkeypatch, server, "cifar10", "cifar-10-python.tar.gz", tar_gz(members))
    assert main(["cifar10", "--dest", str(tmp_path)]) == 1
    assert "does not hold a valid cifar-10-batches-py/" in capsys.readouterr().err
    assert listing(tmp_path) == []


@pytest.mark.parametrize("kind", ["tar", "zip", "absolute", "symlink"])
def test_escaping_archive_members_are_refused(server, monkeypatch, tmp_path, capsys, kind):
    dest = tmp_path / "inner" / "datasets"
    dest.mkdir(parents=True)
    members = cifar_members()
    if kind == "tar":
        data = tar_gz({**members, "cifar-10-batches-py/../../evil.txt": b"x"})
    elif kind == "zip":
        data = zip_bytes({**members, "../evil.txt": b"x"})
    elif kind == "absolute":
        data = tar_gz({**members, str(tmp_path / "evil.txt"): b"x"})
    else:
        data = tar_gz(members, symlink=("cifar-10-batches-py/link", "../../evil.txt"))
    use_archive(monkeypatch, server, "cifar10", "cifar-10-python.tar.gz", data)
    assert main(["cifar10", "--dest", str(dest)]) == 1
    err = capsys.readouterr().err
    assert "refusing archive member" in err
    assert ("links and special files" if kind == "symlink" else "escape the folder") in err
    assert listing(tmp_path) == ["inner", "inner/datasets"]  # nothing extracted anywhere


def test_not_an_archive(server, monkeypatch, tmp_path, capsys):
    use_archive(monkeypatch, server, "cifar10", "cifar-10-python.tar.gz", b"<html>sorry</html>")
    assert main(["cifar10", "--dest", str(tmp_path)]) == 1
    assert "is not a zip or tar archive" in capsys.readouterr().err
    assert listing(tmp_path) == []


# -------------------------------------------------------------------------------- network

def test_unreachable_server_exit_code_3(monkeypatch, tmp_path, capsys, closed_port_url):
    monkeypatch.setenv("COURSE_FASHION_MNIST_URL", closed_port_url)
    assert main(["fashion_mnist", "--dest", str(tmp_path / "d")]) == 3
    err = capsys.readouterr().err
    assert f"could not reach {closed_port_url}train-images-idx3-ubyte.gz" in err
    assert "apt-get install -y dataset-fashion-mnist" in err
    assert listing(tmp_path) == []


def test_http_404_and_interrupted_transfer(server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COURSE_COCO_URL", server.url + "/missing/")
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 3
    assert "the server answered 404" in capsys.readouterr().err

    server.files["/short/coco_captioning.zip"] = zip_bytes(coco_members())
    monkeypatch.setenv("COURSE_COCO_URL", server.url + "/short")
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 3
    assert "was interrupted" in capsys.readouterr().err
    assert listing(tmp_path) == []


def test_full_file_url_override(server, monkeypatch, tmp_path):
    server.files["/mirror/coco_captioning.zip"] = zip_bytes(coco_members())
    monkeypatch.setenv("COURSE_COCO_URL", server.url + "/mirror/coco_captioning.zip")
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 0
    assert server.log == ["/mirror/coco_captioning.zip"]


# --------------------------------------------------------------------------- Fashion-MNIST

def use_fashion(monkeypatch, server, files):
    remotes = []
    for name, (data, raw_md5) in files.items():
        server.files[f"/fm/{name}"] = data
        remotes.append(Remote(name, md5(data), raw_md5))
    monkeypatch.setitem(SOURCES, "fashion_mnist",
                        dataclasses.replace(SOURCES["fashion_mnist"], files=tuple(remotes)))
    monkeypatch.setenv("COURSE_FASHION_MNIST_URL", server.url + "/fm/")


def test_fashion_mnist_download_and_partial_resume(server, monkeypatch, tmp_path, capsys):
    files = fashion_files()
    use_fashion(monkeypatch, server, files)
    assert main(["fashion_mnist", "--dest", str(tmp_path)]) == 0
    folder = tmp_path / "fashion-mnist"
    assert sorted(os.listdir(tmp_path)) == ["fashion-mnist"]
    assert sorted(os.listdir(folder)) == sorted(files)
    assert (folder / "t10k-labels-idx1-ubyte.gz").read_bytes() == files["t10k-labels-idx1-ubyte.gz"][0]

    (folder / "train-labels-idx1-ubyte.gz").unlink()
    # the same data in a different gzip wrapper (as Debian ships it) counts as verified
    images, _ = idx_gz(np.zeros((4, 28, 28)), mtime=12345)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(images)
    server.log.clear()
    assert main(["fashion_mnist", "--dest", str(tmp_path)]) == 0
    assert server.log == ["/fm/train-labels-idx1-ubyte.gz"]
    assert (folder / "train-images-idx3-ubyte.gz").read_bytes() == images
    assert main(["fashion_mnist", "--dest", str(tmp_path)]) == 0
    assert "already present and verified" in capsys.readouterr().out


def test_fashion_mnist_one_bad_file_changes_nothing(server, monkeypatch, tmp_path):
    files = fashion_files()
    use_fashion(monkeypatch, server, files)
    server.files["/fm/t10k-images-idx3-ubyte.gz"] = b"corrupted in transit"
    assert main(["fashion_mnist", "--dest", str(tmp_path)]) == 1
    assert listing(tmp_path) == []


def test_published_fashion_mnist_checksums_match_debian_data():
    """The Debian copies are re-gzipped: their decompressed data must match our raw MD5s."""
    system = Path("/usr/share/datasets/fashion-mnist")
    labels = system / "t10k-labels-idx1-ubyte.gz"
    if not labels.is_file():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    remote = next(r for r in SOURCES["fashion_mnist"].files if r.filename == labels.name)
    assert download.md5sum(labels, decompress=True) == remote.raw_md5
    assert remote.md5 == "bb300cfdad3c16e7a12a480ee83cd310"


# -------------------------------------------------------------------------- COCO captioning

@pytest.mark.parametrize("prefix", ["coco_captioning/", ""])
def test_coco_zip_nested_or_flat(server, monkeypatch, tmp_path, prefix):
    server.files["/coco_captioning.zip"] = zip_bytes(coco_members(prefix))
    monkeypatch.setenv("COURSE_COCO_URL", server.url)
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path / "coco_captioning")) == [
        "coco2014_captions.h5", "coco2014_vocab.json", "train2014_urls.txt"]
    assert os.listdir(tmp_path) == ["coco_captioning"]


def test_coco_zip_missing_vocab_or_bad_h5(server, monkeypatch, tmp_path, capsys):
    members = coco_members()
    del members["coco_captioning/coco2014_vocab.json"]
    server.files["/coco_captioning.zip"] = zip_bytes(members)
    monkeypatch.setenv("COURSE_COCO_URL", server.url)
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 1
    assert "coco2014_vocab.json" in capsys.readouterr().err
    members = {**coco_members(), "coco_captioning/coco2014_captions.h5": b"not hdf5"}
    server.files["/coco_captioning.zip"] = zip_bytes(members)
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 1
    assert "is not an HDF5 file" in capsys.readouterr().err
    server.files["/coco_captioning.zip"] = zip_bytes(coco_members())[:-30]  # cut off the directory
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 1
    assert listing(tmp_path) == []


# ----------------------------------------------------------------------------------- usage

def test_usage_errors(capsys, monkeypatch, tmp_path):
    assert main(["mnist"]) == 2
    assert "unknown dataset 'mnist'" in capsys.readouterr().err
    monkeypatch.setenv("COURSE_COCO_URL", "no-scheme")
    assert main(["coco_captioning", "--dest", str(tmp_path)]) == 2
    assert "unknown url type: 'no-scheme/coco_captioning.zip'" in capsys.readouterr().err
    assert listing(tmp_path) == []
    with pytest.raises(SystemExit) as exc:
        main(["--bogus"])
    assert exc.value.code == 2


def test_get_datasets_script(server, tmp_path, closed_port_url):
    server.files["/coco_captioning.zip"] = zip_bytes(coco_members())
    server.files["/cifar-10-python.tar.gz"] = tar_gz(cifar_members())  # not the official checksum
    env = {**os.environ, "PYTHON": sys.executable, "COURSE_DATA_DIR": str(tmp_path / "data"),
           "COURSE_COCO_URL": server.url, "COURSE_CIFAR10_URL": server.url,
           "COURSE_FASHION_MNIST_URL": closed_port_url}
    script = REPO / "datasets" / "get_datasets.sh"

    def run(*args):
        return subprocess.run(["bash", str(script), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    proc = run("coco_captioning")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "coco_captioning" / "coco2014_vocab.json").is_file()
    proc = run("coco_captioning")
    assert proc.returncode == 0 and "already present and verified" in proc.stdout
    proc = run("cifar10")
    assert proc.returncode == 1 and "checksum mismatch" in proc.stderr
    proc = run()  # default: cifar10 (checksum) then fashion_mnist (network): first failure wins
    assert proc.returncode == 1 and "could not reach" in proc.stderr
    assert run("nonsense").returncode == 2
    assert sorted(os.listdir(tmp_path / "data")) == ["coco_captioning"]
