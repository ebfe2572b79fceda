"""Captioning data: the CS231n COCO captioning files, or the kit's generated shapes set.

COCO layout (folder ``<datasets>/coco_captioning``, see data_utils.data_dir)::

    coco2014_captions.h5        train_captions (N, T) int, train_image_idxs (N,) int,
                                val_captions, val_image_idxs
    train2014_vgg16_fc7.h5      dataset "features" (num_train_images, 4096)
    val2014_vgg16_fc7.h5        (with pca_features: train2014_vgg16_fc7_pca.h5 and
                                 val2014_vgg16_fc7_pca.h5, 512 columns)
    coco2014_vocab.json         {"idx_to_word": [...], "word_to_idx": {...}}
    train2014_urls.txt          one image URL per line, row i = image i
    val2014_urls.txt

Caption row j describes image ``*_image_idxs[j]``; an image usually has several
captions. Every loader returns one dict with the keys train_captions,
train_image_idxs, val_captions, val_image_idxs, train_features, val_features,
idx_to_word, word_to_idx, and train_urls/val_urls (COCO) or
train_images/val_images (generated set).
"""
import json
import os

import numpy as np

from course_utils.bleu import corpus_bleu
from course_utils.checks import check_array, check_keys, check_positive_int
from course_utils.data_utils import DatasetError, data_dir
from course_utils.shapes_captions import make_shapes_captions

COCO_FOLDER = "coco_captioning"
FIX_COCO = ("bash datasets/get_datasets.sh coco_captioning "
            "(or use the generated set: load_captioning_data(source='shapes'))")
SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>")


def _coco_dir(base_dir):
    return os.fspath(data_dir() / COCO_FOLDER) if base_dir is None else os.fspath(base_dir)


def _coco_files(base_dir, pca_features):
    suffix = "_pca" if pca_features else ""
    names = {
        "captions": "coco2014_captions.h5",
        "train_features": f"train2014_vgg16_fc7{suffix}.h5",
        "val_features": f"val2014_vgg16_fc7{suffix}.h5",
        "vocab": "coco2014_vocab.json",
        "train_urls": "train2014_urls.txt",
        "val_urls": "val2014_urls.txt",
    }
    return {role: os.path.join(base_dir, name) for role, name in names.items()}


def coco_available(base_dir=None, pca_features=True):
    """True if every COCO captioning file is present in base_dir."""
    return all(os.path.isfile(p) for p in _coco_files(_coco_dir(base_dir), pca_features).values())


def _require(path):
    if not os.path.isfile(path):
        raise DatasetError(f"COCO captioning file {path} is missing; fix: {FIX_COCO}")


def load_coco_data(base_dir=None, max_train=None, pca_features=True):
    """Load the COCO captioning data.

    base_dir: the coco_captioning folder (default ``<datasets>/coco_captioning``,
        where <datasets> is $COURSE_DATA_DIR or the repository's datasets folder).
    max_train: if set, keep a random subset of that many training captions
        (drawn with a fixed seed, so the subset is the same every time).
    pca_features: read the 512-d PCA-reduced features instead of the 4096-d fc7 ones.
    Returns the dict described in the module docstring (urls as numpy string arrays).
    Raises DatasetError naming the missing or unreadable file and the fix.
    """
    import h5py  # only needed for the COCO files

    if max_train is not None:
        max_train = check_positive_int(max_train, "max_train")
    files = _coco_files(_coco_dir(base_dir), pca_features)
    for path in files.values():
        _require(path)

    data = {}
    try:
        with h5py.File(files["captions"], "r") as f:
            for key in ("train_captions", "train_image_idxs", "val_captions", "val_image_idxs"):
                if key not in f:
                    raise DatasetError(f"{files['captions']} has no dataset {key!r}; "
                                       f"the file is damaged, fix: {FIX_COCO}")
                data[key] = np.asarray(f[key])
        for split in ("train", "val"):
            path = files[f"{split}_features"]
            with h5py.File(path, "r") as f:
                if "features" not in f:
                    raise DatasetError(f"{path} has no dataset 'features'; fix: {FIX_COCO}")
                data[f"{split}_features"] = np.asarray(f["features"])
    except OSError as err:
        raise DatasetError(f"cannot read a COCO captioning HDF5 file ({err}); fix: {FIX_COCO}") from err

    try:
        with open(files["vocab"], encoding="utf-8") as f:
            vocab = json.load(f)
        check_keys(vocab, files["vocab"], ("idx_to_word", "word_to_idx"))
    except (json.JSONDecodeError, ValueError) as err:
        raise DatasetError(f"{files['vocab']} is not a valid vocabulary ({err}); fix: {FIX_COCO}") from err
    data["idx_to_word"] = list(vocab["idx_to_word"])
    data["word_to_idx"] = dict(vocab["word_to_idx"])

    for split in ("train", "val"):
        with open(files[f"{split}_urls"], encoding="utf-8") as f:
            data[f"{split}_urls"] = np.array([line.strip() for line in f if line.strip()])

    if max_train is not None and max_train < data["train_captions"].shape[0]:
        rng = np.random.default_rng(231)
        keep = rng.choice(data["train_captions"].shape[0], size=max_train, replace=False)
        data["train_captions"] = data["train_captions"][keep]
        data["train_image_idxs"] = data["train_image_idxs"][keep]
    return data


def load_captioning_data(source="auto", max_train=None, pca_features=True, base_dir=None, **shapes_kwargs):
    """One entry point for captioning data.

    source: "coco" (the downloaded files, error if missing), "shapes" (the generated
        set) or "auto" (COCO when all its files are present, else the generated set).
    max_train, pca_features, base_dir: passed to load_coco_data.
    shapes_kwargs: passed to shapes_captions.make_shapes_captions (num_train, num_val,
        image_size, noise, seed).
    Returns the captioning dict plus ``source`` ("coco" or "shapes").
    """
    if source not in ("auto", "coco", "shapes"):
        raise ValueError(f"source must be 'auto', 'coco' or 'shapes', got {source!r}")
    if source == "coco" or (source == "auto" and coco_available(base_dir, pca_features)):
        data = load_coco_data(base_dir=base_dir, max_train=max_train, pca_features=pca_features)
        data["source"] = "coco"
        return data
    data = make_shapes_captions(**shapes_kwargs)
    if max_train is not None and max_train < data["train_captions"].shape[0]:
        max_train = check_positive_int(max_train, "max_train")
        data["train_captions"] = data["train_captions"][:max_train]
        data["train_image_idxs"] = data["train_image_idxs"][:max_train]
    data["source"] = "shapes"
    return data


def decode_captions(captions, idx_to_word):
    """Word indices -> text.

    captions: (N, T) or (T,) integer array; idx_to_word: list (or dict) index -> word.
    Each caption stops at <END> and skips <NULL> and <START>. Returns a list of N
    strings (or one string for a 1-D input).
    """
    captions = np.asarray(captions)
    if not np.issubdtype(captions.dtype, np.integer) or captions.ndim not in (1, 2):
        raise ValueError(f"captions must be an integer array of shape (N, T) or (T,), "
                         f"got dtype {captions.dtype} and shape {captions.shape}")
    single = captions.ndim == 1
    decoded = []
    for row in np.atleast_2d(captions):
        words = []
        for idx in row:
            word = idx_to_word[int(idx)]
            if word == "<END>":
                break
            if word not in ("<NULL>", "<START>"):
                words.append(word)
        decoded.append(" ".join(words))
    return decoded[0] if single else decoded


def sample_coco_minibatch(data, batch_size=100, split="train", rng=None):
    """Draw batch_size captions (with replacement) and their images' features.

    data: a captioning dict; split: "train" or "val";
    rng: np.random.Generator, an int seed, or None (fresh randomness).
    Returns (captions (B, T), image_features (B, D), urls (B,)); for the generated
    set, which has no URLs, the third item holds the images (B, S, S, 3); None if
    data has neither.
    """
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    batch_size = check_positive_int(batch_size, "batch_size")
    check_keys(data, "data", (f"{split}_captions", f"{split}_image_idxs", f"{split}_features"))
    rng = np.random.default_rng(rng)
    captions = data[f"{split}_captions"]
    idx = rng.choice(captions.shape[0], batch_size)
    image_idxs = data[f"{split}_image_idxs"][idx]
    pictures = data.get(f"{split}_urls", data.get(f"{split}_images"))
    pictures = None if pictures is None else pictures[image_idxs]
    return captions[idx], data[f"{split}_features"][image_idxs], pictures


def references_by_image(data, split="val"):
    """-> (image indices (M,), list of M lists of reference token lists), one entry per image."""
    check_keys(data, "data", (f"{split}_captions", f"{split}_image_idxs"))
    captions = data[f"{split}_captions"]
    image_idxs = data[f"{split}_image_idxs"]
    texts = decode_captions(captions, data["idx_to_word"])
    refs = {}
    for image, text in zip(image_idxs.tolist(), texts):
        refs.setdefault(image, []).append(text.split())
    images = np.array(sorted(refs), dtype=np.int64)
    return images, [refs[i] for i in images.tolist()]


def caption_bleu(model, data, split="val", n=1, num_images=None, max_length=30, batch_size=500, seed=0):
    """Corpus BLEU-n of the model's greedy captions against all captions of each image.

    model: has ``sample(features, max_length)``; data: a captioning dict.
    num_images: score a seeded random subset of that many images (None = all).
    Returns a float in [0, 1].
    """
    images, references = references_by_image(data, split)
    if num_images is not None and check_positive_int(num_images, "num_images") < len(images):
        keep = np.sort(np.random.default_rng(seed).choice(len(images), num_images, replace=False))
        images = images[keep]
        references = [references[k] for k in keep.tolist()]
    features = check_array(data[f"{split}_features"], f"data['{split}_features']", ndim=2)
    candidates = []
    for start in range(0, len(images), batch_size):
        sampled = model.sample(features[images[start:start + batch_size]], max_length=max_length)
        candidates += [text.split() for text in decode_captions(sampled, data["idx_to_word"])]
    return corpus_bleu(candidates, references, n=n)
