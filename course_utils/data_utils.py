"""Datasets for the assignments: CIFAR-10, Fashion-MNIST and scikit-learn's digits.

``load_dataset(name="auto")`` returns one dict layout for every dataset::

    X_train, y_train, X_val, y_val, X_test, y_test   images (N, H, W, C), labels int64 (N,)
    class_names                                      list of str, indexed by label
    name, source                                     registry name used, where it was read from
    mean_image                                       only with subtract_mean=True

Pixel values are on the 0..255 scale for every dataset (gray sets have C = 1).
``get_CIFAR10_data`` (exactly the six split arrays), ``load_CIFAR10`` and
``load_CIFAR_batch`` keep the classic CS231n entry points, and so do the loaders
of CS231n's other data, which are not in the registry: ``load_tiny_imagenet``,
``load_imagenet_val`` and ``load_models`` (see docs/cs231n.md).

Where data is looked for: the ``datasets`` folder next to the package, or the
folder named by the environment variable ``COURSE_DATA_DIR``, or the ``root``
argument; Fashion-MNIST is also found where Debian's ``dataset-fashion-mnist``
package installs it. ``COURSE_DATASET`` pins the dataset that ``auto`` picks.
Nothing is cached on disk.
"""
import gzip
import importlib
import importlib.resources
import os
import pickle
import types
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils.checks import check_positive_int
from course_utils.image_utils import load_image

DATASETS = ("cifar10", "fashion_mnist", "digits")  # also the order in which ``auto`` prefers them
DATASET_ENV = "COURSE_DATASET"
DATA_DIR_ENV = "COURSE_DATA_DIR"
SYSTEM_FASHION_MNIST_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)

SPLIT_KEYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_FILES = CIFAR10_TRAIN_BATCHES + ("test_batch",)
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]

FASHION_MNIST_FOLDER = "fashion-mnist"
FASHION_MNIST_FILES = {  # role -> file name without the optional .gz
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

DIGITS_TEST_FRACTION = 0.2
DIGITS_SEED = 0

FIX_CIFAR10 = "bash datasets/get_datasets.sh cifar10"
FIX_FASHION_MNIST = "apt-get install -y dataset-fashion-mnist"


class DatasetError(RuntimeError):
    """A dataset is missing, truncated or corrupt; the message names the file and the fix."""


@dataclass(frozen=True)
class DatasetInfo:
    """Where a registered dataset is; ``n_train``/``n_test`` are None when not counted;
    ``problem`` says why a dataset that is present cannot be used (damaged), else None."""
    name: str
    present: bool
    location: str
    n_train: int | None = None
    n_test: int | None = None
    problem: str | None = None


def data_dir(root=None):
    """The datasets folder: ``root``, else $COURSE_DATA_DIR, else ``<repo>/datasets``."""
    if root is not None:
        return Path(root)
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "datasets"


# ----------------------------------------------------------------------------------- CIFAR-10

class _ArrayUnpickler(pickle.Unpickler):
    """Unpickle CIFAR batches: plain containers and numpy arrays, nothing else."""

    _ALLOWED = {
        (module, name)
        for module in ("numpy.core.multiarray", "numpy._core.multiarray",
                       "numpy.core.numeric", "numpy._core.numeric", "numpy")
        for name in ("_reconstruct", "_frombuffer", "scalar", "ndarray", "dtype")
    } | {("_codecs", "encode")}  # how protocol-2 pickles written by Python 3 store bytes

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a dataset file")


def _cifar_error(path, problem):
    return DatasetError(f"CIFAR-10 file {path}: {problem}. To fix it run: {FIX_CIFAR10}")


def _load_cifar_batch(path):
    """One python-pickle batch -> (images uint8 (N, 32, 32, 3) view, labels int64 (N,))."""
    path = Path(path)
    if not path.is_file():
        raise _cifar_error(path, "missing")
    try:
        with open(path, "rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
    except Exception as exc:  # truncated (EOFError), garbage (UnpicklingError, ValueError, ...)
        raise _cifar_error(path, f"cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(batch, dict):
        raise _cifar_error(path, f"expected a dict, found {type(batch).__name__}")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise _cifar_error(path, "the keys b'data' and b'labels' are missing")
    data = np.asarray(data)
    labels = np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise _cifar_error(path, f"expected uint8 data of shape (N, 3072), found {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise _cifar_error(path, f"expected {data.shape[0]} integer labels, found {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES)):
        raise _cifar_error(path, "labels outside 0..9")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels.astype(np.int64)


def _read_cifar10(folder):
    """-> (Xtr uint8 NHWC, ytr, Xte uint8 NHWC, yte, class_names)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"CIFAR-10 not found: no folder {folder}. To get it run: {FIX_CIFAR10}")
    train = [_load_cifar_batch(folder / name) for name in CIFAR10_TRAIN_BATCHES]
    Xte, yte = _load_cifar_batch(folder / "test_batch")
    Xtr = np.concatenate([x for x, _ in train])
    ytr = np.concatenate([y for _, y in train])
    return Xtr, ytr, Xte, yte, _cifar_class_names(folder)


def _cifar_class_names(folder):
    meta = folder / "batches.meta"
    try:
        with open(meta, "rb") as f:
            names = _ArrayUnpickler(f, encoding="bytes").load()[b"label_names"]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    except Exception:  # the meta file is optional: the names are fixed anyway
        return list(CIFAR10_CLASSES)
    return names if len(names) == len(CIFAR10_CLASSES) else list(CIFAR10_CLASSES)


def load_CIFAR10(ROOT):
    """Load all of CIFAR-10 from the folder of python-pickle batches.

    Returns Xtr (50000, 32, 32, 3) float64, Ytr (50000,) int64, Xte (10000, 32, 32, 3), Yte.
    Raises DatasetError when a batch is missing or unreadable.
    """
    Xtr, Ytr, Xte, Yte, _ = _read_cifar10(ROOT)
    return (np.ascontiguousarray(Xtr, dtype=np.float64), Ytr,
            np.ascontiguousarray(Xte, dtype=np.float64), Yte)


def load_CIFAR_batch(filename):
    """Load one CIFAR-10 python-pickle batch file (e.g. ``data_batch_1`` or ``test_batch``).

    Returns X (N, 32, 32, 3) float64 and Y (N,) int64.
    Raises DatasetError when the file is missing or unreadable.
    """
    images, labels = _load_cifar_batch(filename)
    return np.ascontiguousarray(images, dtype=np.float64), labels


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True):
    """CIFAR-10 ready for the classifiers, as CS231n's notebooks expect it.

    Returns a dict of exactly six arrays: X_train, y_train, X_val, y_val,
    X_test, y_test; images (N, 3, 32, 32) float64 with the mean training image
    subtracted (if subtract_mean), labels int64. The validation images follow
    the training images in the official training split.
    ``load_dataset("cifar10", ..., channels_first=True)`` gives the same arrays
    plus class_names, name, source and mean_image.
    """
    data = load_dataset("cifar10", num_training=num_training, num_validation=num_validation,
                        num_test=num_test, subtract_mean=subtract_mean, channels_first=True)
    return {key: data[key] for key in SPLIT_KEYS}


# ------------------------------------------------------------------------------ Fashion-MNIST

def _fashion_error(path, problem):
    if any(Path(path).parent == d for d in SYSTEM_FASHION_MNIST_DIRS):
        fix = f"{FIX_FASHION_MNIST} --reinstall"
    else:
        fix = (f"delete {Path(path).parent} and run {FIX_FASHION_MNIST} "
               "(or, with internet, bash datasets/get_datasets.sh fashion_mnist)")
    return DatasetError(f"Fashion-MNIST file {path}: {problem}. To fix it: {fix}")


def _idx_path(folder, stem):
    """The .gz file if present, else the uncompressed one, else None."""
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_bytes(path):
    try:
        raw = path.read_bytes()
        if path.suffix != ".gz":
            return raw
        # zlib is faster than gzip.decompress; fall back to it for multi-member files
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        data = stream.decompress(raw)
        if not stream.eof:
            raise EOFError("compressed data ends early (truncated file)")
        return gzip.decompress(raw) if stream.unused_data else data
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise _fashion_error(path, f"cannot be decompressed ({type(exc).__name__}: {exc})") from None


def read_idx(path, ndim=None, header_only=False):
    """Read an IDX file of unsigned bytes (gzipped or not) -> uint8 array (read-only view).

    With header_only=True return just the shape tuple from the header (cheap).
    """
    path = Path(path)
    if header_only:
        opener = gzip.open if path.suffix == ".gz" else open
        try:
            with opener(path, "rb") as f:
                head = f.read(4 + 4 * 4)
        except (OSError, EOFError, zlib.error) as exc:
            raise _fashion_error(path, f"cannot be read ({type(exc).__name__}: {exc})") from None
        return _idx_header(path, head, ndim)[0]
    data = _read_idx_bytes(path)
    shape, offset = _idx_header(path, data, ndim)
    expected = int(np.prod(shape))
    if len(data) - offset != expected:
        raise _fashion_error(path, f"the header announces {shape} = {expected} bytes of data, "
                                   f"found {len(data) - offset}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def _idx_header(path, data, ndim):
    """-> (shape, data offset); checks the magic number (0, 0, 0x08 = ubyte, ndim)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise _fashion_error(path, f"bad IDX magic number {data[:4].hex() or 'none'} "
                                   "(expected 0000 08 followed by the number of dimensions)")
    if ndim is not None and data[3] != ndim:
        raise _fashion_error(path, f"expected {ndim} dimensions in the IDX header, found {data[3]}")
    offset = 4 + 4 * data[3]
    if len(data) < offset:
        raise _fashion_error(path, "the IDX header is truncated")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=data[3], offset=4))
    return shape, offset


def _find_fashion_mnist(root=None):
    """First folder holding all four files undamaged, else the first holding all four,
    else the first holding some, else None."""
    candidates = [data_dir(root) / FASHION_MNIST_FOLDER, *SYSTEM_FASHION_MNIST_DIRS]
    found = [(sum(_idx_path(c, s) is not None for s in FASHION_MNIST_FILES.values()), c)
             for c in candidates if c.is_dir()]
    complete = [c for n, c in found if n == len(FASHION_MNIST_FILES)]
    usable = [c for c in complete if _fashion_mnist_damage(c) is None]
    partial = [c for n, c in found if n > 0]
    return (usable or complete or partial or [None])[0]


def _fashion_mnist_damage(folder):
    """Why the Fashion-MNIST files in ``folder`` cannot be used, or None. Cheap: the headers
    and the sizes they announce (for .gz, gzip's last 4 bytes: the uncompressed size)."""
    for role, stem in FASHION_MNIST_FILES.items():
        path = _idx_path(folder, stem)
        if path is None:
            return str(_fashion_error(folder / f"{stem}.gz", "missing"))
        try:
            shape = read_idx(path, ndim=3 if role.endswith("images") else 1, header_only=True)
        except DatasetError as exc:
            return str(exc)
        expected = 4 + 4 * len(shape) + int(np.prod(shape))
        size = path.stat().st_size
        if path.suffix == ".gz":
            with open(path, "rb") as f:
                f.seek(max(size - 4, 0))
                whole = size >= 18 and int.from_bytes(f.read(4), "little") == expected % 2**32
        else:
            whole = size == expected
        if not whole:
            return str(_fashion_error(path, f"truncated or damaged: its header announces {shape}, "
                                            "the file does not hold that much"))
    return None


def _read_fashion_mnist(folder):
    """-> (Xtr uint8 (60000, 28, 28, 1), ytr, Xte, yte, class_names)."""
    arrays = {}
    for role, stem in FASHION_MNIST_FILES.items():
        path = _idx_path(folder, stem)
        if path is None:
            raise _fashion_error(folder / f"{stem}.gz", "missing")
        arrays[role] = read_idx(path, ndim=3 if role.endswith("images") else 1)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape[0] != labels.shape[0]:
            raise _fashion_error(_idx_path(folder, FASHION_MNIST_FILES[f"{split}_labels"]),
                                 f"{labels.shape[0]} labels for {images.shape[0]} {split} images")
        if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
            raise _fashion_error(_idx_path(folder, FASHION_MNIST_FILES[f"{split}_labels"]),
                                 "labels outside 0..9")
    return (arrays["train_images"][..., None], arrays["train_labels"].astype(np.int64),
            arrays["test_images"][..., None], arrays["test_labels"].astype(np.int64),
            list(FASHION_MNIST_CLASSES))


# ------------------------------------------------------------------------------------- digits

def _digits_source():
    return Path(str(importlib.resources.files("sklearn.datasets") / "data" / "digits.csv.gz"))


def _digits_split(n):
    """Fixed seeded split of n indices -> (train indices, test indices), 20% test."""
    order = np.random.default_rng(DIGITS_SEED).permutation(n)
    n_test = int(round(DIGITS_TEST_FRACTION * n))
    return order[n_test:], order[:n_test]


def _read_digits():
    """-> (Xtr uint8 (N, 8, 8, 1) rescaled to 0..255, ytr, Xte, yte, class_names)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    train, test = _digits_split(len(labels))
    return images[train], labels[train], images[test], labels[test], [str(i) for i in range(10)]


# ----------------------------------------------------------------------------------- registry

def _locate(name, root=None):
    """-> (present, location Path) for a registry name, looking only at what is on disk."""
    if name == "cifar10":
        folder = data_dir(root) / CIFAR10_FOLDER
        return folder.is_dir() and any((folder / f).exists() for f in CIFAR10_FILES), folder
    if name == "fashion_mnist":
        folder = _find_fashion_mnist(root)
        return (True, folder) if folder is not None else (False, data_dir(root) / FASHION_MNIST_FOLDER)
    return True, _digits_source()


def _cifar10_damage(folder):
    """Why the CIFAR-10 folder cannot be used, or None. Cheap: every batch is there and is
    framed like a pickle of protocol 2 or later (first byte PROTO, last byte STOP)."""
    for name in CIFAR10_FILES:
        path = folder / name
        if not path.is_file():
            return str(_cifar_error(path, "missing"))
        size = path.stat().st_size
        with open(path, "rb") as f:
            first = f.read(1)
            f.seek(max(size - 1, 0))
            last = f.read(1)
        if size < 2 or first != b"\x80" or last != b".":
            return str(_cifar_error(path, "damaged or truncated (not a whole pickled batch)"))
    return None


def _damage(name, location):
    """Why a present dataset cannot be used, or None."""
    if name == "cifar10":
        return _cifar10_damage(location)
    if name == "fashion_mnist":
        return _fashion_mnist_damage(location)
    return None


def _counts(name, location):
    """Train/test sizes when cheap to know, else (None, None). Never raises."""
    try:
        if name == "cifar10":
            sizes = [_load_cifar_batch(location / f)[1].size for f in CIFAR10_FILES]
            return sum(sizes[:-1]), sizes[-1]
        if name == "fashion_mnist":
            paths = [_idx_path(location, FASHION_MNIST_FILES[r]) for r in ("train_labels", "test_labels")]
            return tuple(read_idx(p, ndim=1, header_only=True)[0] for p in paths)
        _, ytr, _, yte, _ = _read_digits()
        return len(ytr), len(yte)
    except Exception:
        return None, None


def available_datasets(root=None, counts=False):
    """{name: DatasetInfo} for every registered dataset, in ``auto`` preference order.

    counts=True also fills n_train / n_test (reads headers or small files: takes a second or so).
    """
    result = {}
    for name in DATASETS:
        present, location = _locate(name, root)
        problem = _damage(name, location) if present else None
        n_train, n_test = _counts(name, location) if counts and present and not problem else (None, None)
        result[name] = DatasetInfo(name, present, str(location), n_train, n_test, problem)
    return result


def resolve_dataset_name(name="auto", root=None):
    """-> (registry name, reason): ``auto`` follows $COURSE_DATASET, else the first present
    and undamaged one; the reason names any damaged one it passed over and how to fix it."""
    key = _normalise(name)
    reason = "requested"
    if key == "auto":
        pinned = os.environ.get(DATASET_ENV, "").strip()
        if pinned:
            key, reason = _normalise(pinned), f"pinned by {DATASET_ENV}={pinned}"
            if key not in DATASETS:
                raise ValueError(f"{DATASET_ENV}={pinned!r} is not a known dataset; "
                                 f"choose one of {list(DATASETS)}")
        else:
            skipped = []
            for key in DATASETS:
                present, location = _locate(key, root)
                problem = _damage(key, location) if present else None
                if present and not problem:
                    break
                if problem:
                    skipped.append(f"WARNING: {key} passed over, damaged: {problem}")
            reason = "; ".join(["auto: first usable of " + " > ".join(DATASETS)] + skipped)
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose 'auto' or one of {list(DATASETS)}")
    return key, reason


def _normalise(name):
    return str(name).strip().lower().replace("-", "_")


def load_dataset(name="auto", num_training=None, num_validation=None, num_test=None,
                 subtract_mean=False, channels_first=False, dtype=np.float64, root=None):
    """Load a registered dataset, split into train / validation / test.

    name: "auto" (first present of cifar10 > fashion_mnist > digits, or $COURSE_DATASET),
        "cifar10", "fashion_mnist" or "digits".
    num_training: training images; None = every official training image not used for validation.
    num_validation: taken right after the training images from the official training split
        (with num_training=None: its last num_validation images); None = 1000, or a tenth
        of the training split when that is smaller (the digits set).
    num_test: the first num_test images of the official test split; None = all of it.
    subtract_mean: subtract the mean training image (returned as ``mean_image``) from every split.
    channels_first: images (N, C, H, W) instead of (N, H, W, C).
    dtype: floating dtype of the images (pixel values 0..255 before any mean subtraction).
    root: datasets folder (default $COURSE_DATA_DIR, else ``<repo>/datasets``).

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test (labels int64),
    class_names, name, source and, with subtract_mean, mean_image.
    """
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating-point type, got {dtype}")
    if num_validation is not None:
        num_validation = check_positive_int(num_validation, "num_validation", minimum=0)
    if num_training is not None:
        num_training = check_positive_int(num_training, "num_training")
    if num_test is not None:
        num_test = check_positive_int(num_test, "num_test", minimum=0)

    key, reason = resolve_dataset_name(name, root)
    present, location = _locate(key, root)
    if _normalise(name) == "auto":
        print(f"Using dataset {key} from {location} ({reason})")
    if key == "cifar10":
        Xtr, ytr, Xte, yte, class_names = _read_cifar10(location)
    elif key == "fashion_mnist":
        if not present:
            raise DatasetError(
                f"Fashion-MNIST not found in {location} or {SYSTEM_FASHION_MNIST_DIRS[0]}. "
                f"To get it run: {FIX_FASHION_MNIST} "
                "(or, with internet, bash datasets/get_datasets.sh fashion_mnist)")
        Xtr, ytr, Xte, yte, class_names = _read_fashion_mnist(location)
    else:
        Xtr, ytr, Xte, yte, class_names = _read_digits()

    n_train_split = len(ytr)
    if num_validation is None:
        num_validation = min(1000, n_train_split // 10)
    if num_training is None:
        num_training = n_train_split - num_validation
        if num_training < 1:
            raise ValueError(f"num_validation={num_validation} leaves no training images: "
                             f"the {key} training split has {n_train_split}")
    if num_training + num_validation > n_train_split:
        raise ValueError(f"num_training={num_training} + num_validation={num_validation} = "
                         f"{num_training + num_validation} images asked for, but the {key} "
                         f"training split has {n_train_split}")
    if num_test is None:
        num_test = len(yte)
    if num_test > len(yte):
        raise ValueError(f"num_test={num_test} images asked for, but the {key} test split has {len(yte)}")

    val = slice(num_training, num_training + num_validation)
    splits = {
        "train": (Xtr[:num_training], ytr[:num_training]),
        "val": (Xtr[val], ytr[val]),
        "test": (Xte[:num_test], yte[:num_test]),
    }
    data = {}
    for split, (X, y) in splits.items():
        data[f"X_{split}"] = np.ascontiguousarray(X, dtype=dtype)
        data[f"y_{split}"] = np.array(y, dtype=np.int64)
    if subtract_mean:
        mean_image = data["X_train"].mean(axis=0)
        for split in splits:
            data[f"X_{split}"] -= mean_image
        data["mean_image"] = mean_image
    if channels_first:
        for key_ in [f"X_{s}" for s in splits] + (["mean_image"] if subtract_mean else []):
            axes = (0, 3, 1, 2) if data[key_].ndim == 4 else (2, 0, 1)
            data[key_] = np.ascontiguousarray(data[key_].transpose(axes))
    data.update(class_names=class_names, name=key, source=str(location))
    return data


# ------------------------------------------------- CS231n's other data: ImageNet and models

TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
IMAGENET_VAL_FILE = "imagenet_val_25.npz"
IMAGENET_VAL_URL = "http://cs231n.stanford.edu/imagenet_val_25.npz"


def _tiny_error(path, problem):
    return DatasetError(f"Tiny ImageNet file {path}: {problem}. To get the dataset, download "
                        f"{TINY_IMAGENET_URL} and unzip it into {data_dir()}")


def _tab_lines(path):
    """The non-empty lines of a text file, each split at tabs."""
    if not path.is_file():
        raise _tiny_error(path, "missing")
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _read_images(paths, dtype, shape=None):
    """Image files of one size -> (N, 3, H, W) array of ``dtype``; gray images fill all 3 channels.

    shape: (3, H, W) expected (also the shape of an empty result); None = the first image's.
    """
    images = None
    for i, path in enumerate(paths):
        try:
            image = load_image(path).transpose(2, 0, 1)
        except (OSError, ValueError) as exc:
            problem = "missing" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc})"
            raise _tiny_error(path, problem) from None
        shape = shape or image.shape
        if image.shape != shape:
            raise _tiny_error(path, f"image of shape {image.shape}, expected {shape} like the others")
        if images is None:
            images = np.empty((len(paths), *shape), dtype=dtype)
        images[i] = image
    return images if images is not None else np.empty((0, *shape), dtype=dtype)


def load_tiny_imagenet(path, dtype=np.float32, subtract_mean=True):
    """Load Tiny ImageNet (CS231n's 200-class, 64x64 subset of ImageNet) or a folder laid out like it.

    path: the dataset folder, e.g. ``datasets/tiny-imagenet-200``, holding
      - wnids.txt: one WordNet id per line; the classes, in label order;
      - words.txt: ``wnid<TAB>name, other name, ...`` lines (may list more wnids);
      - train/<wnid>/<wnid>_boxes.txt: first column = image file names of that
        class, read from train/<wnid>/images/;
      - val/val_annotations.txt: ``file<TAB>wnid<TAB>box`` lines, images in val/images/;
      - test/images/ (read in sorted name order) and, if present,
        test/test_annotations.txt laid out like the validation annotations.
    dtype: floating dtype of the images (values 0..255 before mean subtraction).
    subtract_mean: subtract mean_image from the images of every split.

    Returns a dict with class_names (for each label, the list of its names),
    X_train (N_train, 3, H, W), y_train (N_train,) int64, X_val, y_val, X_test,
    y_test (None without test annotations) and mean_image (3, H, W), the mean
    training image. Gray images are repeated over the three channels.
    Raises DatasetError naming the file that is missing or unreadable.
    """
    root = Path(path)
    if not root.is_dir():
        raise _tiny_error(root, "no such folder")
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating-point type, got {dtype}")
    wnids = [fields[0].strip() for fields in _tab_lines(root / "wnids.txt")]
    if not wnids:
        raise _tiny_error(root / "wnids.txt", "lists no classes")
    label = {wnid: i for i, wnid in enumerate(wnids)}
    words = {fields[0].strip(): fields[1] for fields in _tab_lines(root / "words.txt") if len(fields) > 1}
    missing = [wnid for wnid in wnids if wnid not in words]
    if missing:
        raise _tiny_error(root / "words.txt", f"no names for {missing[:3]}")
    class_names = [[name.strip() for name in words[wnid].split(",")] for wnid in wnids]

    def labelled(annotations, folder):
        """(image paths, labels) from ``file<TAB>wnid...`` lines."""
        lines = _tab_lines(annotations)
        unknown = [fields for fields in lines if len(fields) < 2 or fields[1].strip() not in label]
        if unknown:
            raise _tiny_error(annotations, f"line {lines.index(unknown[0]) + 1} names no class of wnids.txt")
        return [folder / f[0].strip() for f in lines], [label[f[1].strip()] for f in lines]

    train_paths, y_train = [], []
    for wnid in wnids:
        boxes = root / "train" / wnid / f"{wnid}_boxes.txt"
        names = [fields[0].strip() for fields in _tab_lines(boxes)]
        train_paths += [root / "train" / wnid / "images" / name for name in names]
        y_train += [label[wnid]] * len(names)
    if not train_paths:
        raise _tiny_error(root / "train", "no training images are listed in the *_boxes.txt files")
    X_train = _read_images(train_paths, dtype)
    shape = X_train.shape[1:]
    val_paths, y_val = labelled(root / "val" / "val_annotations.txt", root / "val" / "images")
    X_val = _read_images(val_paths, dtype, shape)

    test_folder = root / "test" / "images"
    if not test_folder.is_dir():
        raise _tiny_error(test_folder, "no such folder")
    test_paths = sorted(p for p in test_folder.iterdir() if p.is_file())
    y_test = None
    annotations = root / "test" / "test_annotations.txt"
    if annotations.is_file():
        paths, labels = labelled(annotations, test_folder)
        by_name = dict(zip((p.name for p in paths), labels))
        unlabelled = [p.name for p in test_paths if p.name not in by_name]
        if unlabelled:
            raise _tiny_error(annotations, f"no label for {unlabelled[:3]}")
        y_test = np.array([by_name[p.name] for p in test_paths], dtype=np.int64)
    X_test = _read_images(test_paths, dtype, shape)

    mean_image = X_train.mean(axis=0)
    if subtract_mean:
        for X in (X_train, X_val, X_test):
            X -= mean_image
    return {
        "class_names": class_names,
        "X_train": X_train, "y_train": np.array(y_train, dtype=np.int64),
        "X_val": X_val, "y_val": np.array(y_val, dtype=np.int64),
        "X_test": X_test, "y_test": y_test,
        "mean_image": mean_image,
    }


def _imagenet_val_error(path, problem):
    return DatasetError(f"ImageNet validation sample {path}: {problem}. To get it, download "
                        f"{IMAGENET_VAL_URL} into {path.parent}")


def _read_pickled_npy(archive, member):
    """One object array (e.g. a dict saved by np.savez) of an .npz, unpickled with _ArrayUnpickler."""
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy format version {version}")
        _, _, dtype = read_header(f)
        if dtype != np.dtype(object):
            raise ValueError(f"{member} holds {dtype} data, expected a pickled object")
        return _ArrayUnpickler(f, encoding="latin1").load()


def load_imagenet_val(num=None, root=None):
    """The 25 ImageNet validation images CS231n uses for saliency maps and class visualisation.

    Reads ``imagenet_val_25.npz`` from the datasets folder (root, else as for load_dataset):
    X (25, 224, 224, 3) uint8, y (25,) labels, label_map (a pickled dict label -> class name).
    num: return only the first num images (None = all).
    Returns X (num, 224, 224, 3) uint8, y (num,) int64 and class_names: dict label -> name.
    """
    path = data_dir(root) / IMAGENET_VAL_FILE
    if num is not None:
        num = check_positive_int(num, "num", minimum=0)
    if not path.is_file():
        raise _imagenet_val_error(path, "missing")
    try:
        with np.load(path, allow_pickle=False) as f:
            X, y = f["X"], f["y"]
        with zipfile.ZipFile(path) as archive:
            class_names = _read_pickled_npy(archive, "label_map.npy").item()
    except Exception as exc:  # missing key, not a zip, foreign object in the pickle, ...
        raise _imagenet_val_error(path, f"cannot be read ({type(exc).__name__}: {exc})") from None
    if X.ndim != 4 or X.shape[3] != 3 or y.shape != X.shape[:1] or not isinstance(class_names, dict):
        raise _imagenet_val_error(path, f"expected X (N, H, W, 3), y (N,) and a dict label_map, "
                                        f"found X {X.shape}, y {y.shape}, label_map {type(class_names).__name__}")
    return X[:num], y[:num].astype(np.int64), class_names


class _ForeignObject(pickle.UnpicklingError):
    """A pickle names a global that load_models does not load."""


class _ModelUnpickler(_ArrayUnpickler):
    """Unpickle models: what _ArrayUnpickler allows, plus the classes of course_utils.classifiers
    and the update rules of course_utils.optim (what Solver checkpoints hold)."""

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        if module.startswith("course_utils.classifiers.") or module == "course_utils.optim":
            try:
                obj = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                obj = None
            wanted = type if module != "course_utils.optim" else types.FunctionType
            if isinstance(obj, wanted) and obj.__module__ == module:
                return obj
        raise _ForeignObject(f"{module}.{name}")


def load_models(models_dir):
    """Load every pickled model of a folder, e.g. checkpoints written by the Solver.

    models_dir: folder of pickle files, each a dict holding a model under the
    key "model" (what ``Solver(..., checkpoint_name=...)`` writes). Other files
    (not pickles, or pickles of something else) are skipped.
    Only numpy arrays, plain containers, the classifier classes of
    course_utils.classifiers and the update rules of course_utils.optim are
    unpickled: a pickle naming anything else (which could run code) raises
    DatasetError naming the file.
    Returns {file name: model}, in file name order.
    """
    folder = Path(models_dir)
    if not folder.is_dir():
        raise DatasetError(f"models folder {folder} not found: it should hold pickled dicts with a 'model' "
                           "entry, such as the checkpoints Solver(..., checkpoint_name=...) writes")
    models = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            with open(path, "rb") as f:
                content = _ModelUnpickler(f, encoding="latin1").load()
        except _ForeignObject as exc:
            raise DatasetError(f"model file {path}: refers to {exc}, which load_models does not unpickle "
                               "(only numpy arrays, containers and course_utils classifiers)") from None
        except Exception:  # not a pickle: skipped, like any other file
            continue
        if isinstance(content, dict) and "model" in content:
            models[path.name] = content["model"]
    return models
