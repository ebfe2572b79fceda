"""Download the datasets into the datasets folder, verified and all-or-nothing.

    python -m course_utils.download NAME... [--dest DIR]

NAME is cifar10, fashion_mnist, coco_captioning or all (default: cifar10 fashion_mnist).
Everything is fetched into a hidden staging folder inside the destination, checked
(published MD5 checksum, or archive contents), extracted there, and only then moved
into place with a rename; any failure removes the staging folder, so the destination
is left exactly as it was. Data that is already present and verifies is skipped.

Base URLs can be replaced with COURSE_CIFAR10_URL, COURSE_FASHION_MNIST_URL and
COURSE_COCO_URL (a folder URL, or the full URL of the file).

Exit codes: 0 ok, 1 verification failure (checksum, bad archive), 2 usage, 3 network.
"""
import argparse
import gzip
import hashlib
import http.client
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from course_utils import data_utils

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_NETWORK = 0, 1, 2, 3
CHUNK = 1 << 20
TIMEOUT = 60  # seconds without data before giving up
OFFLINE_HINT = ("on machines without internet use `apt-get install -y dataset-fashion-mnist` "
                "(Fashion-MNIST from Debian) or `COURSE_DATASET=digits` (ships with scikit-learn)")


@dataclass(frozen=True)
class Remote:
    """One file to fetch; md5 is the published checksum (None: check the contents instead).

    raw_md5 is the checksum of the decompressed data of a .gz file: it identifies the
    same data when the gzip wrapper differs (Debian's copies of Fashion-MNIST do).
    """
    filename: str
    md5: str | None = None
    raw_md5: str | None = None


@dataclass(frozen=True)
class Source:
    """A downloadable dataset: ``files`` land in ``dest/folder`` (archive=False), or the
    single archive is extracted and its folder holding ``required`` becomes ``dest/folder``."""
    name: str
    folder: str
    urls: tuple
    url_env: str
    files: tuple
    archive: bool
    required: tuple


SOURCES = {
    "cifar10": Source(
        name="cifar10",
        folder=data_utils.CIFAR10_FOLDER,
        urls=("https://www.cs.toronto.edu/~kriz/",),
        url_env="COURSE_CIFAR10_URL",
        files=(Remote("cifar-10-python.tar.gz", md5="c58f30108f718f92721af3b95e74349a"),),
        archive=True,
        required=data_utils.CIFAR10_FILES,
    ),
    "fashion_mnist": Source(
        name="fashion_mnist",
        folder=data_utils.FASHION_MNIST_FOLDER,
        urls=("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
              "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        url_env="COURSE_FASHION_MNIST_URL",
        files=(
            Remote("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                   "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
            Remote("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
                   "9018921c3c673c538a1fc5bad174d6f9"),
            Remote("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
                   "8181f5470baa50b63fa0f6fddb340f0a"),
            Remote("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310",
                   "15d484375f8d13e6eb1aabb0c3f46965"),
        ),
        archive=False,
        required=(),
    ),
    "coco_captioning": Source(
        name="coco_captioning",
        folder="coco_captioning",
        urls=("http://cs231n.stanford.edu/",),
        url_env="COURSE_COCO_URL",
        files=(Remote("coco_captioning.zip"),),  # no published checksum: contents are checked
        archive=True,
        required=("coco2014_captions.h5", "coco2014_vocab.json"),
    ),
}
DEFAULT_NAMES = ("cifar10", "fashion_mnist")


class DownloadError(Exception):
    """A failed download; ``exit_code`` is what the command returns."""
    exit_code = EXIT_VERIFY


class VerificationError(DownloadError):
    exit_code = EXIT_VERIFY


class NetworkError(DownloadError):
    exit_code = EXIT_NETWORK


class UsageError(DownloadError):
    exit_code = EXIT_USAGE


# -------------------------------------------------------------------------------- checking

def md5sum(path, decompress=False):
    """Hex MD5 of a file's bytes (of its gunzipped bytes with decompress=True)."""
    opener = gzip.open if decompress else open
    with opener(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _file_ok(path, remote):
    """True when ``path`` holds the data ``remote`` describes (by either checksum)."""
    if not path.is_file():
        return False
    if remote.md5 is None or md5sum(path) == remote.md5:
        return True
    try:
        return remote.raw_md5 is not None and md5sum(path, decompress=True) == remote.raw_md5
    except (OSError, EOFError, zlib.error):
        return False


def check_folder(source, folder):
    """None when ``folder`` holds a complete, readable copy of ``source``; else the problem."""
    folder = Path(folder)
    if not folder.is_dir():
        return f"{folder} does not exist"
    missing = [name for name in source.required if not (folder / name).is_file()]
    if missing:
        return f"{folder} lacks {', '.join(missing)}"
    if source.name == "cifar10":
        try:
            data_utils._read_cifar10(folder)
        except data_utils.DatasetError as exc:
            return str(exc).split(". To fix", 1)[0]
    elif source.name == "coco_captioning":
        with open(folder / "coco2014_captions.h5", "rb") as f:
            if f.read(8) != b"\x89HDF\r\n\x1a\n":
                return f"{folder / 'coco2014_captions.h5'} is not an HDF5 file"
        try:
            json.loads((folder / "coco2014_vocab.json").read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            return f"{folder / 'coco2014_vocab.json'} is not valid JSON ({exc})"
    if not source.archive:
        bad = [r.filename for r in source.files if not _file_ok(folder / r.filename, r)]
        if bad:
            return f"{folder} lacks verified {', '.join(bad)}"
    return None


# ----------------------------------------------------------------------------- downloading

def urls_for(source, remote):
    """Candidate URLs for one file: the env override alone if set, else the official ones."""
    override = os.environ.get(source.url_env, "").strip()
    bases = [override] if override else list(source.urls)
    return [b if b.rstrip("/").endswith("/" + remote.filename) else b.rstrip("/") + "/" + remote.filename
            for b in bases]


def _stream(url, path):
    """Write the body at ``url`` to ``path`` with a progress bar; return its MD5."""
    from tqdm.auto import tqdm

    digest, received = hashlib.md5(), 0
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "course-kit-download"})
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except ValueError as exc:  # not a URL urllib can open, e.g. a bad COURSE_*_URL value
        raise UsageError(f"cannot download {url!r}: {exc}") from None
    except urllib.error.HTTPError as exc:
        raise NetworkError(f"could not download {url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkError(f"could not reach {url} ({reason})") from None
    with response, open(path, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                  desc=path.name, mininterval=1.0, leave=False) as bar:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise NetworkError(f"the transfer from {url} was interrupted after "
                                       f"{received} bytes ({type(exc).__name__})") from None
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise NetworkError(f"the transfer from {url} was interrupted: {received} of {total} bytes")
    return digest.hexdigest()


def _fetch_file(source, remote, path):
    """Download ``remote`` to ``path`` trying each URL in turn; verify its checksum."""
    urls = urls_for(source, remote)
    for i, url in enumerate(urls):
        print(f"{source.name}: downloading {url}")
        try:
            got = _stream(url, path)
            break
        except NetworkError as exc:
            if i == len(urls) - 1:
                raise
            print(f"{source.name}: {exc}; trying the next location", file=sys.stderr)
    if remote.md5 is not None and got != remote.md5:
        raise VerificationError(f"checksum mismatch for {remote.filename} from {url}: "
                                f"MD5 {got}, expected {remote.md5}")


def _check_member(name):
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise VerificationError(f"refusing archive member {name!r}: it would escape the folder")


def _extract(archive, into):
    """Extract a zip or tar archive into the new folder ``into``, refusing unsafe members."""
    into.mkdir()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    _check_member(name)
                zf.extractall(into)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    _check_member(member.name)
                    if not (member.isfile() or member.isdir()):
                        raise VerificationError(f"refusing archive member {member.name!r}: "
                                                "links and special files are not allowed")
                # members are checked above; the "data" filter (Python 3.11.4+) checks again
                safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(into, **safe)
        else:
            raise VerificationError(f"{archive.name} is not a zip or tar archive")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise VerificationError(f"{archive.name} is a damaged archive ({exc})") from None


def _archive_root(source, into):
    """The extracted folder that holds ``source.required``."""
    candidates = [into / source.folder, into, *sorted(p for p in into.iterdir() if p.is_dir())]
    for candidate in candidates:
        if candidate.is_dir() and check_folder(source, candidate) is None:
            return candidate
    problems = check_folder(source, into / source.folder) or ""
    raise VerificationError(f"the archive does not hold a valid {source.folder}/ with "
                            f"{', '.join(source.required)} ({problems.replace(str(into), '<archive>')})")


def fetch(source, dest):
    """Make ``dest/source.folder`` hold a verified copy of ``source``; see the module doc."""
    dest = Path(dest)
    target = dest / source.folder
    if target.exists():
        problem = check_folder(source, target)
        if problem is None:
            print(f"{source.name}: already present and verified in {target}; skipping")
            return target
        print(f"{source.name}: the copy in {target} is incomplete ({problem}); fetching it again")
    created = [p for p in (dest, *dest.parents) if not p.exists()]
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{source.name}-", suffix=".partial", dir=dest))
    try:
        if source.archive:
            remote = source.files[0]
            _fetch_file(source, remote, staging / remote.filename)
            _extract(staging / remote.filename, staging / "extracted")
            _install_folder(_archive_root(source, staging / "extracted"), target, staging)
        else:
            todo = [r for r in source.files if not _file_ok(target / r.filename, r)]
            fresh = staging / source.folder
            fresh.mkdir()
            for remote in todo:
                _fetch_file(source, remote, fresh / remote.filename)
            if target.is_dir():
                for remote in todo:
                    os.replace(fresh / remote.filename, target / remote.filename)
            else:
                _install_folder(fresh, target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # only folders this call made, and only if still empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    shutil.rmtree(staging, ignore_errors=True)
    print(f"{source.name}: ready in {target}")
    return target


def _install_folder(new, target, staging):
    """Rename ``new`` to ``target``; an existing (invalid) target is moved into staging first."""
    old = None
    if target.exists() or target.is_symlink():
        old = staging / "previous"
        os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise


# --------------------------------------------------------------------------------- command

def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.download",
        description="Download datasets into the datasets folder (verified, all-or-nothing).",
        epilog="exit codes: 0 ok, 1 verification failure, 2 usage, 3 network",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"{', '.join(SOURCES)} or all (default: {' '.join(DEFAULT_NAMES)})")
    parser.add_argument("--dest", help="datasets folder (default: $COURSE_DATA_DIR, else <repo>/datasets)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    names = []
    for name in args.names or DEFAULT_NAMES:
        key = name.strip().lower().replace("-", "_")
        if key not in SOURCES and key != "all":
            print(f"download: unknown dataset {name!r}; choose from {', '.join(SOURCES)} or all",
                  file=sys.stderr)
            return EXIT_USAGE
        names += [n for n in (SOURCES if key == "all" else [key]) if n not in names]
    dest = data_utils.data_dir(args.dest)
    code = EXIT_OK
    for name in names:
        try:
            fetch(SOURCES[name], dest)
        except NetworkError as exc:
            print(f"{name}: error: {exc}; {OFFLINE_HINT}", file=sys.stderr)
            code = code or exc.exit_code
        except DownloadError as exc:
            print(f"{name}: error: {exc}; nothing was changed in {dest}", file=sys.stderr)
            code = code or exc.exit_code
        except OSError as exc:
            print(f"{name}: error: could not write to {dest} ({exc})", file=sys.stderr)
            code = code or EXIT_VERIFY
        except KeyboardInterrupt:
            print(f"{name}: interrupted; nothing half-written was left in {dest}", file=sys.stderr)
            return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
