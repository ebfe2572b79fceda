"""Small dataset files in the real formats, written by the tests themselves (no downloads).

CIFAR-10 python batches, a Tiny ImageNet folder and CS231n's imagenet_val_25.npz;
every pixel value follows a documented rule so tests can check what was read.
"""
import pickle

import numpy as np
from PIL import Image

from course_utils import data_utils


def write_cifar(folder, n_per_batch=6, n_test=4, meta=True):
    """CIFAR-10 python layout: channel c of image i (counted per split) holds (i + 100c) % 256,
    label = i % 10."""
    folder.mkdir(parents=True)
    for b, name in enumerate(data_utils.CIFAR10_FILES):
        index = np.arange(n_test) if name == "test_batch" else np.arange(n_per_batch) + b * n_per_batch
        n = len(index)
        data = np.empty((n, 3, 32, 32), dtype=np.uint8)
        for c in range(3):
            data[:, c] = ((index + 100 * c) % 256)[:, None, None]
        batch = {b"batch_label": name.encode(), b"data": data.reshape(n, 3072),
                 b"labels": [int(i % 10) for i in index]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    if meta:
        names = [f"class{i}".encode() for i in range(10)]
        with open(folder / "batches.meta", "wb") as f:
            pickle.dump({b"label_names": names, b"num_vis": 3072}, f, protocol=2)
    return folder


TINY_WNIDS = ("n01443537", "n01629819")
TINY_WORDS = {"n01443537": "goldfish, Carassius auratus", "n01629819": "European fire salamander",
              "n09999999": "not a class of this copy"}


def tiny_train_colour(label, j):
    """RGB of training image j of class ``label`` (constant images survive JPEG almost exactly)."""
    return (40 * label + 20 * j, 100, 200)


def tiny_val_colour(i):
    return (10 * i, 60, 160)


def tiny_test_colour(i):
    return (250 - 20 * i, 30, 90)


def write_tiny_imagenet(folder, per_class=3, n_val=4, n_test=3, size=8, test_annotations=False):
    """Tiny ImageNet layout: wnids.txt, words.txt, train/<wnid>/{<wnid>_boxes.txt, images/*.JPEG},
    val/{val_annotations.txt, images/}, test/images/ (+ test_annotations.txt if asked).

    Every image is constant (see the tiny_*_colour functions); training image 1 of
    class 1 is stored as a gray JPEG of value 70. Validation image i has label i % 2,
    test image i label (i + 1) % 2.
    """
    def save(path, colour, gray=False):
        path.parent.mkdir(parents=True, exist_ok=True)
        if gray:
            Image.new("L", (size, size), colour).save(path, format="JPEG", quality=100)
        else:
            Image.new("RGB", (size, size), colour).save(path, format="JPEG", quality=100)

    folder.mkdir(parents=True)
    (folder / "wnids.txt").write_text("".join(f"{w}\n" for w in TINY_WNIDS))
    (folder / "words.txt").write_text("".join(f"{w}\t{names}\n" for w, names in TINY_WORDS.items()))
    for label, wnid in enumerate(TINY_WNIDS):
        names = [f"{wnid}_{j}.JPEG" for j in range(per_class)]
        for j, name in enumerate(names):
            gray = (label, j) == (1, 1)
            save(folder / "train" / wnid / "images" / name, 70 if gray else tiny_train_colour(label, j), gray)
        (folder / "train" / wnid / f"{wnid}_boxes.txt").write_text(
            "".join(f"{name}\t0\t0\t{size - 1}\t{size - 1}\n" for name in names))
    lines = []
    for i in range(n_val):
        save(folder / "val" / "images" / f"val_{i}.JPEG", tiny_val_colour(i))
        lines.append(f"val_{i}.JPEG\t{TINY_WNIDS[i % 2]}\t1\t2\t3\t4\n")
    (folder / "val" / "val_annotations.txt").write_text("".join(lines))
    lines = []
    for i in reversed(range(n_test)):  # written out of order: the loader sorts by name
        save(folder / "test" / "images" / f"test_{i}.JPEG", tiny_test_colour(i))
        lines.append(f"test_{i}.JPEG\t{TINY_WNIDS[(i + 1) % 2]}\t1\t2\t3\t4\n")
    if test_annotations:
        (folder / "test" / "test_annotations.txt").write_text("".join(lines))
    return folder


IMAGENET_LABELS = {0: "tench, Tinca tinca", 1: "goldfish, Carassius auratus", 2: "great white shark"}


def write_imagenet_val(folder, n=3, size=4):
    """imagenet_val_25.npz as CS231n ships it: X (n, size, size, 3) uint8 with every pixel of
    image i equal to 10 i, y[i] = (i + 1) % 3, label_map = IMAGENET_LABELS (a pickled dict)."""
    X = (10 * np.arange(n, dtype=np.uint8))[:, None, None, None] * np.ones((1, size, size, 3), np.uint8)
    path = folder / data_utils.IMAGENET_VAL_FILE
    np.savez(path, X=X, y=(np.arange(n) + 1) % 3, label_map=IMAGENET_LABELS)
    return path
