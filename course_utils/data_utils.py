"""Datasets for the assignments: CIFAR-10, Fashion-MNIST and scikit-learn's digits.

``load_dataset(name="auto")`` returns one dict layout for every dataset::

    X_train, y_train, X_val, y_val, X_test, y_test   images (N, H, W, C), labels int64 (N,)
    class_names                                      list of str, indexed by label
    name, source                                     registry name used, where it was read from
    mean_image                                       only with subtract_mean=True

Pixel values are on the 0..255 scale for every dataset (gray sets have C = 1).
``get_CIFAR10_data`` and ``load_CIFAR10`` keep the classic CS231n entry points.

Where data is looked for: the ``datasets`` folder next to the package, or the
folder named by the environment variable ``COURSE_DATA_DIR``, or the ``root``
argument; Fashion-MNIST is also found where Debian's ``dataset-fashion-mnist``
package installs it. ``COURSE_DATASET`` pins the dataset that ``auto`` picks.
Nothing is cached on disk.
"""
import gzip
import importlib.resources
import os
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils.checks import check_positive_int

DATASETS = ("cifar10", "fashion_mnist", "digits")  # also the order in which ``auto`` prefers them
DATASET_ENV = "COURSE_DATASET"
DATA_DIR_ENV = "COURSE_DATA_DIR"
SYSTEM_FASHION_MNIST_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)

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
    """Where a registered dataset is; ``n_train``/``n_test`` are None when not counted."""
    name: str
    present: bool
    location: str
    n_train: int | None = None
    n_test: int | None = None


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


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True):
    """CIFAR-10 ready for the classifiers: X_* (N, 3, 32, 32) float64, y_* int64, mean subtracted.

    Same as ``load_dataset("cifar10", ..., channels_first=True)``.
    """
    return load_dataset("cifar10", num_training=num_training, num_validation=num_validation,
                        num_test=num_test, subtract_mean=subtract_mean, channels_first=True)


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
    """First folder holding all four files, else the first holding some, else None."""
    candidates = [data_dir(root) / FASHION_MNIST_FOLDER, *SYSTEM_FASHION_MNIST_DIRS]
    found = [(sum(_idx_path(c, s) is not None for s in FASHION_MNIST_FILES.values()), c)
             for c in candidates if c.is_dir()]
    complete = [c for n, c in found if n == len(FASHION_MNIST_FILES)]
    partial = [c for n, c in found if n > 0]
    return (complete or partial or [None])[0]


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
        n_train, n_test = _counts(name, location) if counts and present else (None, None)
        result[name] = DatasetInfo(name, present, str(location), n_train, n_test)
    return result


def resolve_dataset_name(name="auto", root=None):
    """-> (registry name, reason): ``auto`` follows $COURSE_DATASET, else the first present."""
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
            key = next(n for n in DATASETS if _locate(n, root)[0])
            reason = "auto: first present of " + " > ".join(DATASETS)
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
