import json

import h5py
import numpy as np
import pytest

from course_utils.coco_utils import (
    caption_bleu,
    coco_available,
    decode_captions,
    load_captioning_data,
    load_coco_data,
    sample_coco_minibatch,
)
from course_utils.data_utils import DatasetError

IDX_TO_WORD = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "dog", "runs", "cat"]
WORD_TO_IDX = {w: i for i, w in enumerate(IDX_TO_WORD)}


def _write_coco(folder, num_train_images=4, num_val_images=2):
    """A tiny data set in the CS231n COCO captioning layout."""
    folder.mkdir(parents=True, exist_ok=True)
    train_captions = np.array([[1, 4, 5, 6, 2, 0], [1, 4, 7, 2, 0, 0], [1, 5, 2, 0, 0, 0],
                               [1, 7, 6, 2, 0, 0], [1, 4, 7, 6, 2, 0]], dtype=np.int32)
    train_idxs = np.array([0, 1, 1, 2, 3], dtype=np.int32)
    val_captions = np.array([[1, 4, 5, 2, 0, 0], [1, 7, 2, 0, 0, 0], [1, 4, 7, 2, 0, 0]], dtype=np.int32)
    val_idxs = np.array([0, 1, 1], dtype=np.int32)
    with h5py.File(folder / "coco2014_captions.h5", "w") as f:
        f["train_captions"] = train_captions
        f["train_image_idxs"] = train_idxs
        f["val_captions"] = val_captions
        f["val_image_idxs"] = val_idxs
    rng = np.random.default_rng(0)
    for split, n in (("train", num_train_images), ("val", num_val_images)):
        for suffix, dim in (("", 16), ("_pca", 8)):
            with h5py.File(folder / f"{split}2014_vgg16_fc7{suffix}.h5", "w") as f:
                f["features"] = rng.standard_normal((n, dim)).astype(np.float32)
        (folder / f"{split}2014_urls.txt").write_text(
            "".join(f"http://example.org/{split}/{i}.jpg\n" for i in range(n)))
    (folder / "coco2014_vocab.json").write_text(
        json.dumps({"idx_to_word": IDX_TO_WORD, "word_to_idx": WORD_TO_IDX}))
    return folder


@pytest.fixture
def coco_dir(tmp_path):
    return _write_coco(tmp_path / "coco_captioning")


def test_load_coco_data_layout(coco_dir):
    data = load_coco_data(base_dir=coco_dir)
    assert set(data) == {"train_captions", "train_image_idxs", "val_captions", "val_image_idxs",
                         "train_features", "val_features", "idx_to_word", "word_to_idx",
                         "train_urls", "val_urls"}
    assert data["train_captions"].shape == (5, 6)
    assert data["train_features"].shape == (4, 8)  # PCA features by default
    assert data["val_features"].shape == (2, 8)
    assert data["idx_to_word"] == IDX_TO_WORD and data["word_to_idx"] == WORD_TO_IDX
    assert data["val_urls"].tolist() == ["http://example.org/val/0.jpg", "http://example.org/val/1.jpg"]
    assert np.array_equal(data["train_image_idxs"], [0, 1, 1, 2, 3])


def test_load_coco_data_full_features_and_max_train(coco_dir):
    full = load_coco_data(base_dir=coco_dir, pca_features=False)
    assert full["train_features"].shape == (4, 16)
    sub = load_coco_data(base_dir=coco_dir, max_train=3)
    assert sub["train_captions"].shape == (3, 6) and sub["train_image_idxs"].shape == (3,)
    again = load_coco_data(base_dir=coco_dir, max_train=3)
    assert np.array_equal(sub["train_captions"], again["train_captions"])
    # each kept caption still belongs to its image
    rows = [full["train_captions"].tolist().index(c) for c in sub["train_captions"].tolist()]
    assert np.array_equal(full["train_image_idxs"][rows], sub["train_image_idxs"])


def test_missing_file_names_file_and_fix(coco_dir):
    (coco_dir / "val2014_vgg16_fc7_pca.h5").unlink()
    with pytest.raises(DatasetError, match=r"val2014_vgg16_fc7_pca\.h5.*get_datasets\.sh coco_captioning"):
        load_coco_data(base_dir=coco_dir)
    assert not coco_available(coco_dir)
    assert coco_available(coco_dir, pca_features=False)


def test_default_folder_follows_course_data_dir(tmp_path, monkeypatch):
    _write_coco(tmp_path / "coco_captioning")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert load_coco_data()["train_captions"].shape == (5, 6)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match="coco2014_captions.h5"):
        load_coco_data()


def test_load_captioning_data_picks_source(coco_dir, tmp_path):
    coco = load_captioning_data(base_dir=coco_dir)
    assert coco["source"] == "coco" and "train_urls" in coco
    shapes = load_captioning_data(base_dir=tmp_path / "empty", num_train=20, num_val=5)
    assert shapes["source"] == "shapes"
    assert shapes["train_images"].shape[0] == 20 and "train_urls" not in shapes
    assert load_captioning_data("shapes", max_train=7, num_train=20, num_val=5)["train_captions"].shape[0] == 7
    with pytest.raises(DatasetError):
        load_captioning_data("coco", base_dir=tmp_path / "empty")
    with pytest.raises(ValueError, match="source must be"):
        load_captioning_data("flickr")


def test_decode_captions():
    caps = np.array([[1, 4, 5, 6, 2, 7, 0], [1, 0, 7, 0, 2, 4, 4]])
    assert decode_captions(caps, IDX_TO_WORD) == ["a dog runs", "cat"]
    assert decode_captions(caps[0], IDX_TO_WORD) == "a dog runs"
    with pytest.raises(ValueError, match="integer array"):
        decode_captions(caps.astype(float), IDX_TO_WORD)


def test_sample_coco_minibatch(coco_dir):
    data = load_coco_data(base_dir=coco_dir)
    caps, feats, urls = sample_coco_minibatch(data, batch_size=6, split="train", rng=0)
    assert caps.shape == (6, 6) and feats.shape == (6, 8) and urls.shape == (6,)
    # every sampled caption comes with its own image's features and URL
    for cap, feat, url in zip(caps, feats, urls):
        row = data["train_captions"].tolist().index(cap.tolist())
        image = data["train_image_idxs"][row]
        assert np.array_equal(feat, data["train_features"][image])
        assert url == data["train_urls"][image]
    again = sample_coco_minibatch(data, batch_size=6, split="train", rng=0)
    assert np.array_equal(again[0], caps)
    with pytest.raises(ValueError, match="split must be"):
        sample_coco_minibatch(data, split="test")


class _Oracle:
    """A 'model' whose sample returns the first reference caption of each image."""

    def __init__(self, data, split):
        self.by_feature = {}
        for cap, idx in zip(data[f"{split}_captions"], data[f"{split}_image_idxs"]):
            self.by_feature.setdefault(data[f"{split}_features"][idx].tobytes(), cap[1:])

    def sample(self, features, max_length=30):
        return np.stack([self.by_feature[f.tobytes()] for f in features])


def test_caption_bleu_is_one_for_reference_captions(coco_dir):
    data = load_coco_data(base_dir=coco_dir)
    assert caption_bleu(_Oracle(data, "val"), data, "val", n=2) == pytest.approx(1.0)
    assert caption_bleu(_Oracle(data, "train"), data, "train", n=1, num_images=2) == pytest.approx(1.0)
