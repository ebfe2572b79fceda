"""Dataset loading on small files the tests write themselves (CIFAR pickles, IDX files)."""
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from dataset_files import write_cifar

from course_utils import data_utils
from course_utils.data_utils import (DatasetError, available_datasets, get_CIFAR10_data,
                                     load_CIFAR10, load_dataset, read_idx)

SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


# ------------------------------------------------------------------------------ fixtures

def idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_fashion(folder, n_train=30, n_test=10, compress=True):
    """Images: every pixel of image i equals i (train) or 200 + i (test); labels i % 10."""
    folder.mkdir(parents=True)
    arrays = {
        "train-images-idx3-ubyte": np.arange(n_train)[:, None, None] * np.ones((1, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": (200 + np.arange(n_test))[:, None, None] * np.ones((1, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for stem, array in arrays.items():
        raw = idx_bytes(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return folder


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty datasets folder, with the Debian location hidden and no pinning."""
    root = tmp_path / "datasets"
    root.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    monkeypatch.delenv("COURSE_DATASET", raising=False)
    monkeypatch.setattr(data_utils, "SYSTEM_FASHION_MNIST_DIRS", (tmp_path / "no-system-copy",))
    return root


# ------------------------------------------------------------------------------- CIFAR-10

def test_load_cifar10_shapes_values_and_order(data_root):
    folder = write_cifar(data_root / "cifar-10-batches-py")
    Xtr, Ytr, Xte, Yte = load_CIFAR10(folder)
    assert Xtr.shape == (30, 32, 32, 3) and Xte.shape == (4, 32, 32, 3)
    assert Xtr.dtype == np.float64 and Ytr.dtype == np.int64 and Yte.dtype == np.int64
    # image 7 (second batch, second image): channel c holds 7 + 100c
    assert np.all(Xtr[7, :, :, 0] == 7) and np.all(Xtr[7, :, :, 2] == 207)
    assert Ytr.tolist() == [i % 10 for i in range(30)]
    assert np.all(Xte[3, ..., 1] == 103) and Yte.tolist() == [0, 1, 2, 3]


def test_load_dataset_cifar10_splits_from_end_of_training(data_root):
    write_cifar(data_root / "cifar-10-batches-py")
    data = load_dataset("cifar10", num_validation=5)
    assert data["X_train"].shape == (25, 32, 32, 3) and data["X_val"].shape == (5, 32, 32, 3)
    assert data["X_test"].shape == (4, 32, 32, 3)
    assert data["y_val"].tolist() == [5, 6, 7, 8, 9]  # images 25..29
    assert np.all(data["X_val"][0, ..., 0] == 25)
    assert data["class_names"] == [f"class{i}" for i in range(10)]
    assert data["name"] == "cifar10" and data["source"] == str(data_root / "cifar-10-batches-py")
    assert "mean_image" not in data

    data = load_dataset("cifar10", num_training=10, num_validation=3, num_test=2)
    assert data["y_train"].tolist() == list(range(10))
    assert data["y_val"].tolist() == [0, 1, 2]  # images 10, 11, 12 follow the training images
    assert data["y_test"].tolist() == [0, 1]


def test_get_cifar10_data_channels_first_and_mean(data_root):
    write_cifar(data_root / "cifar-10-batches-py")
    data = get_CIFAR10_data(num_training=20, num_validation=4, num_test=3)
    # exactly the six arrays, as CS231n's "for k, v in data.items(): print(k, v.shape)" expects
    assert list(data) == ["X_train", "y_train", "X_val", "y_val", "X_test", "y_test"]
    assert data["X_train"].shape == (20, 3, 32, 32) and data["X_val"].shape == (4, 3, 32, 32)
    assert data["X_test"].shape == (3, 3, 32, 32)
    assert data["X_train"].flags["C_CONTIGUOUS"] and data["X_train"].dtype == np.float64
    # training images 0..19: channel c mean = 9.5 + 100c
    np.testing.assert_allclose(data["X_val"][0, :, 5, 5], [20 - 9.5] * 3)  # image 20
    np.testing.assert_allclose(data["X_test"][2, :, 0, 0], [2 - 9.5] * 3)  # test image 2
    # the extras come from load_dataset, with the same arrays
    full = load_dataset("cifar10", num_training=20, num_validation=4, num_test=3,
                        subtract_mean=True, channels_first=True)
    assert full["mean_image"].shape == (3, 32, 32)
    np.testing.assert_allclose(full["mean_image"][:, 0, 0], [9.5, 109.5, 209.5])
    for key, value in data.items():
        np.testing.assert_array_equal(value, full[key])
    raw = get_CIFAR10_data(num_training=20, num_validation=4, num_test=3, subtract_mean=False)
    np.testing.assert_allclose(raw["X_val"][0, :, 5, 5], [20, 120, 220])


def test_load_cifar_batch(data_root):
    folder = write_cifar(data_root / "cifar-10-batches-py")
    X, Y = data_utils.load_CIFAR_batch(folder / "data_batch_2")
    assert X.shape == (6, 32, 32, 3) and X.dtype == np.float64 and Y.dtype == np.int64
    assert np.all(X[1, ..., 2] == 207) and Y.tolist() == [6, 7, 8, 9, 0, 1]  # images 6..11
    with pytest.raises(DatasetError, match=r"data_batch_9: missing.*get_datasets.sh cifar10"):
        data_utils.load_CIFAR_batch(folder / "data_batch_9")


def test_cifar_class_names_default_without_meta(data_root):
    write_cifar(data_root / "cifar-10-batches-py", meta=False)
    assert load_dataset("cifar10", num_validation=5)["class_names"][:2] == ["airplane", "automobile"]


def test_cifar_missing_batch_names_file_and_fix(data_root):
    folder = write_cifar(data_root / "cifar-10-batches-py")
    (folder / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match=r"data_batch_3: missing.*get_datasets.sh cifar10"):
        load_dataset("cifar10")


def test_cifar_truncated_and_corrupt_batches(data_root):
    folder = write_cifar(data_root / "cifar-10-batches-py")
    path = folder / "test_batch"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DatasetError, match=r"test_batch: cannot be read.*get_datasets.sh cifar10"):
        load_CIFAR10(folder)
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(DatasetError, match="test_batch: cannot be read"):
        load_CIFAR10(folder)
    with open(path, "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DatasetError, match=r"test_batch: expected uint8 data of shape \(N, 3072\)"):
        load_CIFAR10(folder)


def test_cifar_pickle_with_foreign_objects_is_refused(data_root):
    folder = write_cifar(data_root / "cifar-10-batches-py")
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": Path("x"), b"labels": []}, f)
    with pytest.raises(DatasetError, match=r"data_batch_1: cannot be read .*unexpected object"):
        load_CIFAR10(folder)


def test_missing_cifar_folder(data_root):
    with pytest.raises(DatasetError, match=r"no folder .*cifar-10-batches-py.*get_datasets.sh cifar10"):
        load_dataset("cifar10")


# --------------------------------------------------------------------------- Fashion-MNIST

@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_gz_and_raw(data_root, compress):
    write_fashion(data_root / "fashion-mnist", compress=compress)
    data = load_dataset("fashion_mnist", num_validation=6)
    assert data["X_train"].shape == (24, 28, 28, 1) and data["X_val"].shape == (6, 28, 28, 1)
    assert data["X_test"].shape == (10, 28, 28, 1)
    assert np.all(data["X_val"][:, 3, 3, 0] == np.arange(24, 30))
    assert np.all(data["X_test"][:, 0, 0, 0] == 200 + np.arange(10))
    assert data["y_train"].dtype == np.int64 and data["y_train"][:12].tolist() == [*range(10), 0, 1]
    assert data["class_names"][0] == "T-shirt/top" and data["class_names"][9] == "Ankle boot"


def test_fashion_mnist_options(data_root):
    write_fashion(data_root / "fashion-mnist")
    data = load_dataset("fashion_mnist", num_training=10, num_validation=4, num_test=5,
                        subtract_mean=True, channels_first=True, dtype=np.float32)
    assert data["X_train"].shape == (10, 1, 28, 28) and data["X_train"].dtype == np.float32
    assert data["mean_image"].shape == (1, 28, 28) and data["mean_image"].dtype == np.float32
    assert np.allclose(data["mean_image"], 4.5)  # mean of training images 0..9 only
    assert np.allclose(data["X_val"][:, 0, 0, 0], np.arange(10, 14) - 4.5)
    assert np.allclose(data["X_test"][:, 0, 7, 7], 200 + np.arange(5) - 4.5)


def test_requests_larger_than_the_data(data_root):
    write_fashion(data_root / "fashion-mnist")
    with pytest.raises(ValueError, match=r"num_training=25 \+ num_validation=10 = 35 .* training split has 30"):
        load_dataset("fashion_mnist", num_training=25, num_validation=10)
    with pytest.raises(ValueError, match=r"num_test=11 .* test split has 10"):
        load_dataset("fashion_mnist", num_validation=5, num_test=11)
    with pytest.raises(ValueError, match="leaves no training images"):
        load_dataset("fashion_mnist", num_validation=30)
    with pytest.raises(ValueError, match="num_training must be an integer >= 1"):
        load_dataset("fashion_mnist", num_training=0)
    with pytest.raises(ValueError, match="dtype must be a floating-point type, got int32"):
        load_dataset("fashion_mnist", dtype=np.int32)


def test_idx_bad_magic_and_size(data_root):
    folder = write_fashion(data_root / "fashion-mnist", compress=False)
    labels = folder / "train-labels-idx1-ubyte"
    labels.write_bytes(b"\x00\x00\x0d\x01" + labels.read_bytes()[4:])  # 0x0d: float data
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte: bad IDX magic number 00000d01"
                                           r".*apt-get install -y dataset-fashion-mnist"):
        load_dataset("fashion_mnist")
    images = folder / "t10k-images-idx3-ubyte"
    labels.write_bytes(idx_bytes(np.arange(30) % 10))
    images.write_bytes(images.read_bytes()[:-5])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte: the header announces \(10, 28, 28\)"):
        load_dataset("fashion_mnist")


def test_idx_truncated_gzip_and_label_count(data_root):
    folder = write_fashion(data_root / "fashion-mnist")
    path = folder / "train-images-idx3-ubyte.gz"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz: cannot be decompressed"):
        load_dataset("fashion_mnist")
    path.write_bytes(good)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(9))))
    with pytest.raises(DatasetError, match="9 labels for 10 test images"):
        load_dataset("fashion_mnist")


def test_fashion_missing_file_and_fix_command(data_root):
    folder = write_fashion(data_root / "fashion-mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte.gz: missing.*dataset-fashion-mnist"):
        load_dataset("fashion_mnist")
    (folder.parent / "elsewhere").mkdir()
    with pytest.raises(DatasetError, match=r"Fashion-MNIST not found .*apt-get install -y dataset-fashion-mnist"):
        load_dataset("fashion_mnist", root=folder.parent / "elsewhere")


def test_read_idx_header_only(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((7, 2, 3)))))
    assert read_idx(path, header_only=True) == (7, 2, 3)
    assert read_idx(path).shape == (7, 2, 3)


def test_complete_system_copy_beats_partial_local_copy(data_root, tmp_path, monkeypatch):
    system = write_fashion(tmp_path / "system", n_train=20)
    monkeypatch.setattr(data_utils, "SYSTEM_FASHION_MNIST_DIRS", (system,))
    local = write_fashion(data_root / "fashion-mnist")
    assert load_dataset("fashion_mnist", num_validation=0)["source"] == str(local)
    (local / "train-images-idx3-ubyte.gz").unlink()
    data = load_dataset("fashion_mnist", num_validation=0)
    assert data["source"] == str(system) and data["X_train"].shape[0] == 20


# ---------------------------------------------------------------------------------- digits

def test_digits_split_scale_and_determinism(data_root):
    data = load_dataset("digits", num_validation=100)
    assert data["X_train"].shape == (1338, 8, 8, 1) and data["X_val"].shape == (100, 8, 8, 1)
    assert data["X_test"].shape == (359, 8, 8, 1)  # 20% of 1797
    assert data["X_train"].min() == 0 and data["X_train"].max() == 255
    assert data["class_names"] == [str(i) for i in range(10)]
    again = load_dataset("digits", num_validation=100)
    assert np.array_equal(data["X_test"], again["X_test"]) and np.array_equal(data["y_train"], again["y_train"])
    # the split is a partition of the 1797 images
    from sklearn.datasets import load_digits
    digits = load_digits()
    all_x = np.concatenate([data["X_train"], data["X_val"], data["X_test"]]).reshape(-1, 64)
    assert all_x.shape[0] == 1797
    np.testing.assert_allclose(np.sort(all_x.sum(1)), np.sort(np.rint(digits.data * 255 / 16).sum(1)))


# ------------------------------------------------------------------------- registry / auto

def test_auto_prefers_cifar_then_fashion_then_digits(data_root, capsys):
    assert load_dataset(num_validation=10)["name"] == "digits"
    assert "Using dataset digits" in capsys.readouterr().out
    write_fashion(data_root / "fashion-mnist")
    assert load_dataset(num_validation=10)["name"] == "fashion_mnist"
    write_cifar(data_root / "cifar-10-batches-py")
    data = load_dataset(num_validation=10)
    out = capsys.readouterr().out.strip().splitlines()
    assert data["name"] == "cifar10"
    assert out[-1].startswith("Using dataset cifar10 from " + str(data_root / "cifar-10-batches-py"))


def test_course_dataset_pins_and_rejects_unknown(data_root, monkeypatch, capsys):
    write_cifar(data_root / "cifar-10-batches-py")
    monkeypatch.setenv("COURSE_DATASET", "digits")
    assert load_dataset(num_validation=10)["name"] == "digits"
    assert "pinned by COURSE_DATASET=digits" in capsys.readouterr().out
    assert load_dataset("cifar10", num_validation=10)["name"] == "cifar10"  # explicit name wins
    monkeypatch.setenv("COURSE_DATASET", "mnist")
    with pytest.raises(ValueError, match=r"COURSE_DATASET='mnist' is not a known dataset.*'cifar10', 'fashion_mnist', 'digits'"):
        load_dataset()
    with pytest.raises(ValueError, match=r"unknown dataset 'imagenet'"):
        load_dataset("imagenet")
    monkeypatch.setenv("COURSE_DATASET", "fashion_mnist")
    with pytest.raises(DatasetError, match="Fashion-MNIST not found"):
        load_dataset()


def test_root_argument_overrides_env(data_root, tmp_path):
    other = tmp_path / "other"
    write_fashion(other / "fashion-mnist")
    assert load_dataset(root=other, num_validation=1)["name"] == "fashion_mnist"
    assert data_utils.data_dir(other) == other
    assert data_utils.data_dir() == data_root


def test_default_data_dir_is_next_to_the_package(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert data_utils.data_dir() == Path(data_utils.__file__).resolve().parents[1] / "datasets"


def test_available_datasets(data_root):
    info = available_datasets()
    assert list(info) == ["cifar10", "fashion_mnist", "digits"]
    assert not info["cifar10"].present and info["cifar10"].location == str(data_root / "cifar-10-batches-py")
    assert not info["fashion_mnist"].present and info["digits"].present
    write_cifar(data_root / "cifar-10-batches-py")
    write_fashion(data_root / "fashion-mnist")
    info = available_datasets(counts=True)
    assert (info["cifar10"].present, info["cifar10"].n_train, info["cifar10"].n_test) == (True, 30, 4)
    assert (info["fashion_mnist"].n_train, info["fashion_mnist"].n_test) == (30, 10)
    assert (info["digits"].n_train, info["digits"].n_test) == (1438, 359)


def test_datasets_command_prints_table(data_root, capsys):
    from course_utils.cli import main

    write_fashion(data_root / "fashion-mnist")
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("fashion_mnist"))
    assert "yes" in row and str(data_root / "fashion-mnist") in row and "30" in row and "10" in row
    assert next(line for line in out.splitlines() if line.startswith("cifar10")).split()[1] == "no"
    assert "auto would pick: fashion_mnist" in out


# --------------------------------------------------------------------- the real data set

@pytest.mark.skipif(not (SYSTEM_FASHION / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", "/nonexistent-course-data")
    monkeypatch.setattr(data_utils, "SYSTEM_FASHION_MNIST_DIRS", (SYSTEM_FASHION,))
    data = load_dataset("fashion_mnist", num_validation=1000, dtype=np.float32)
    assert data["source"] == str(SYSTEM_FASHION)
    assert data["X_train"].shape == (59000, 28, 28, 1) and data["X_val"].shape == (1000, 28, 28, 1)
    assert data["X_test"].shape == (10000, 28, 28, 1)
    assert data["X_train"].min() == 0 and data["X_train"].max() == 255
    y_all = np.concatenate([data["y_train"], data["y_val"]])
    assert np.bincount(y_all).tolist() == [6000] * 10
    assert np.bincount(data["y_test"]).tolist() == [1000] * 10


def test_default_validation_size_scales_with_small_sets(data_root):
    data = load_dataset("digits")
    n_split = len(data["y_train"]) + len(data["y_val"])
    assert len(data["y_val"]) == min(1000, n_split // 10) == 143


# ------------------------------------------------------- damaged copies are passed over

def test_truncated_fashion_gz_is_damaged_not_present(data_root, capsys):
    from course_utils.cli import main

    path = write_fashion(data_root / "fashion-mnist") / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])  # the header is intact, the data is cut short
    info = available_datasets(counts=True)["fashion_mnist"]
    assert info.present and "train-images-idx3-ubyte.gz: truncated or damaged" in info.problem
    assert info.n_train is None
    data = load_dataset(num_validation=10)
    assert data["name"] == "digits"
    out = capsys.readouterr().out
    assert "WARNING: fashion_mnist passed over, damaged: Fashion-MNIST file" in out
    assert "dataset-fashion-mnist" in out  # the fix
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert next(line for line in out.splitlines() if line.startswith("fashion_mnist")).split()[1] == "damaged"
    assert "fashion_mnist is damaged, auto passes it over: Fashion-MNIST file" in out
    assert "auto would pick: digits" in out


@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing"])
def test_damaged_cifar_folder_makes_auto_fall_back(data_root, capsys, damage):
    folder = write_cifar(data_root / "cifar-10-batches-py")
    write_fashion(data_root / "fashion-mnist")
    batch = folder / "data_batch_3"
    if damage == "garbage":
        batch.write_bytes(b"\0" * 1000)
    elif damage == "truncated":
        batch.write_bytes(batch.read_bytes()[:-100])
    else:
        batch.unlink()
    data = load_dataset(num_validation=10)
    assert data["name"] == "fashion_mnist"
    out = capsys.readouterr().out
    assert f"WARNING: cifar10 passed over, damaged: CIFAR-10 file {batch}" in out
    assert "To fix it run: bash datasets/get_datasets.sh cifar10" in out
    with pytest.raises(DatasetError, match="data_batch_3"):  # asked for by name, it still says what is wrong
        load_dataset("cifar10")


def test_undamaged_system_copy_beats_truncated_local_copy(data_root, tmp_path, monkeypatch):
    system = write_fashion(tmp_path / "system", n_train=20)
    monkeypatch.setattr(data_utils, "SYSTEM_FASHION_MNIST_DIRS", (system,))
    local = write_fashion(data_root / "fashion-mnist", compress=False)
    path = local / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    assert load_dataset("fashion_mnist", num_validation=0)["source"] == str(system)
