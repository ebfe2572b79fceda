"""CS231n's other data loaders: Tiny ImageNet, the 25 ImageNet validation images, pickled models.

Every test writes small files in the real formats first (tests/dataset_files.py).
"""
import pathlib
import pickle

import numpy as np
import pytest
from dataset_files import (IMAGENET_LABELS, TINY_WNIDS, tiny_test_colour, tiny_train_colour, tiny_val_colour,
                           write_imagenet_val, write_tiny_imagenet)

from course_utils import optim
from course_utils.classifiers.fc_net import FullyConnectedNet
from course_utils.classifiers.neural_net import TwoLayerNet
from course_utils.data_utils import (IMAGENET_VAL_URL, TINY_IMAGENET_URL, DatasetError, load_imagenet_val,
                                     load_models, load_tiny_imagenet)
from course_utils.solver import Solver

JPEG_TOLERANCE = 3  # constant-colour JPEGs decode to within a few levels


def constant(colour, size=8):
    """(3, size, size) image of one RGB colour."""
    return np.asarray(colour, dtype=np.float64)[:, None, None] * np.ones((1, size, size))


# ------------------------------------------------------------------------------ Tiny ImageNet

def test_tiny_imagenet_layout_labels_and_names(tmp_path):
    root = write_tiny_imagenet(tmp_path / "tiny-imagenet-200")
    data = load_tiny_imagenet(root, subtract_mean=False)
    assert data["class_names"] == [["goldfish", "Carassius auratus"], ["European fire salamander"]]
    assert data["X_train"].shape == (6, 3, 8, 8) and data["X_train"].dtype == np.float32
    assert data["y_train"].tolist() == [0, 0, 0, 1, 1, 1] and data["y_train"].dtype == np.int64
    np.testing.assert_allclose(data["X_train"][2], constant(tiny_train_colour(0, 2)), atol=JPEG_TOLERANCE)
    np.testing.assert_allclose(data["X_train"][4], constant((70, 70, 70)), atol=JPEG_TOLERANCE)  # gray file
    assert data["X_val"].shape == (4, 3, 8, 8) and data["y_val"].tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(data["X_val"][3], constant(tiny_val_colour(3)), atol=JPEG_TOLERANCE)
    assert data["X_test"].shape == (3, 3, 8, 8) and data["y_test"] is None
    np.testing.assert_allclose(data["X_test"][0], constant(tiny_test_colour(0)), atol=JPEG_TOLERANCE)  # sorted
    np.testing.assert_allclose(data["mean_image"], data["X_train"].mean(axis=0))


def test_tiny_imagenet_mean_subtraction_dtype_and_test_labels(tmp_path):
    root = write_tiny_imagenet(tmp_path / "tiny", test_annotations=True)
    raw = load_tiny_imagenet(root, dtype=np.float64, subtract_mean=False)
    data = load_tiny_imagenet(str(root), dtype=np.float64)
    assert data["X_train"].dtype == np.float64 and data["mean_image"].shape == (3, 8, 8)
    for split in ("train", "val", "test"):
        np.testing.assert_allclose(data[f"X_{split}"] + data["mean_image"], raw[f"X_{split}"])
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-9)
    assert data["y_test"].tolist() == [1, 0, 1]


def test_tiny_imagenet_errors_name_the_file_and_the_download(tmp_path):
    with pytest.raises(DatasetError, match=rf"nowhere: no such folder\. .*download {TINY_IMAGENET_URL}"):
        load_tiny_imagenet(tmp_path / "nowhere")
    root = write_tiny_imagenet(tmp_path / "tiny")
    (root / "train" / TINY_WNIDS[1] / "images" / f"{TINY_WNIDS[1]}_2.JPEG").unlink()
    with pytest.raises(DatasetError, match=rf"{TINY_WNIDS[1]}_2.JPEG: missing\. To get the dataset"):
        load_tiny_imagenet(root)
    (root / "train" / TINY_WNIDS[1] / "images" / f"{TINY_WNIDS[1]}_2.JPEG").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=rf"{TINY_WNIDS[1]}_2.JPEG: cannot be read"):
        load_tiny_imagenet(root)


def test_tiny_imagenet_bad_annotations(tmp_path):
    root = write_tiny_imagenet(tmp_path / "tiny")
    annotations = root / "val" / "val_annotations.txt"
    annotations.write_text(annotations.read_text() + "val_9.JPEG\tn00000000\t0\t0\t1\t1\n")
    with pytest.raises(DatasetError, match=r"val_annotations.txt: line 5 names no class of wnids.txt"):
        load_tiny_imagenet(root)
    (root / "words.txt").write_text("n01443537\tgoldfish\n")
    with pytest.raises(DatasetError, match=r"words.txt: no names for \['n01629819'\]"):
        load_tiny_imagenet(root)
    (root / "wnids.txt").unlink()
    with pytest.raises(DatasetError, match=r"wnids.txt: missing"):
        load_tiny_imagenet(root)


# ---------------------------------------------------------------------- imagenet_val_25.npz

def test_imagenet_val(tmp_path):
    write_imagenet_val(tmp_path)
    X, y, class_names = load_imagenet_val(root=tmp_path)
    assert X.shape == (3, 4, 4, 3) and X.dtype == np.uint8 and np.all(X[2] == 20)
    assert y.tolist() == [1, 2, 0] and y.dtype == np.int64
    assert class_names == IMAGENET_LABELS
    X, y, _ = load_imagenet_val(num=2, root=tmp_path)
    assert X.shape[0] == 2 and y.tolist() == [1, 2]


def test_imagenet_val_uses_the_datasets_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match=rf"imagenet_val_25.npz: missing\. To get it, download {IMAGENET_VAL_URL}"):
        load_imagenet_val()
    write_imagenet_val(tmp_path)
    assert load_imagenet_val(num=1)[0].shape == (1, 4, 4, 3)


class Trap:
    """Unpickling an instance of this class would create the file named in its state."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.path),)


def test_imagenet_val_refuses_foreign_objects_in_the_label_map(tmp_path):
    trap = tmp_path / "pwned"
    np.savez(tmp_path / "imagenet_val_25.npz", X=np.zeros((1, 2, 2, 3), np.uint8), y=np.zeros(1, int),
             label_map=np.array(Trap(trap), dtype=object))
    with pytest.raises(DatasetError, match="cannot be read .*unexpected object pathlib"):
        load_imagenet_val(root=tmp_path)
    assert not trap.exists()
    (tmp_path / "imagenet_val_25.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="imagenet_val_25.npz: cannot be read"):
        load_imagenet_val(root=tmp_path)


# ----------------------------------------------------------------------------------- models

def tiny_data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = np.arange(n) % 2
    return {"X_train": X, "y_train": y, "X_val": X, "y_val": y}


def test_load_models_reads_solver_checkpoints(tmp_path):
    model = FullyConnectedNet([4], input_dim=3, num_classes=2, dtype=np.float64, seed=0)
    solver = Solver(model, tiny_data(), num_epochs=1, batch_size=4, verbose=False, seed=0,
                    update_rule=optim.sgd_momentum, checkpoint_name=str(tmp_path / "fc"))
    solver.train()
    net = TwoLayerNet(3, 4, 2, seed=0)
    with open(tmp_path / "net.pkl", "wb") as f:
        pickle.dump({"model": net, "note": "monolithic"}, f)
    (tmp_path / "README.txt").write_text("not a pickle")
    with open(tmp_path / "other.pkl", "wb") as f:
        pickle.dump({"weights": np.zeros(2)}, f)

    models = load_models(tmp_path)
    assert sorted(models) == ["fc_epoch_1.pkl", "net.pkl"]
    loaded = models["fc_epoch_1.pkl"]
    assert isinstance(loaded, FullyConnectedNet) and loaded.loss(np.zeros((2, 3))).shape == (2, 2)
    with open(tmp_path / "fc_epoch_1.pkl", "rb") as f:
        checkpoint = pickle.load(f)  # our own file: the unrestricted reader gives the reference
    assert checkpoint["update_rule"] is optim.sgd_momentum
    for name, value in checkpoint["model"].params.items():
        np.testing.assert_array_equal(loaded.params[name], value)
    np.testing.assert_array_equal(models["net.pkl"].params["W1"], net.params["W1"])


def test_load_models_errors(tmp_path):
    with pytest.raises(DatasetError, match=r"models folder .*missing not found: .*checkpoint_name"):
        load_models(tmp_path / "missing")
    trap = tmp_path / "pwned"
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump({"model": Trap(trap)}, f)
    with pytest.raises(DatasetError, match=r"evil.pkl: refers to pathlib.Path.touch, which load_models"):
        load_models(tmp_path)
    assert not trap.exists()
    (tmp_path / "evil.pkl").unlink()
    assert load_models(tmp_path) == {}
