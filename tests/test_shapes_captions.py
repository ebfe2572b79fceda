import numpy as np
import pytest

from course_utils.coco_utils import decode_captions
from course_utils.shapes_captions import (
    COLOURS,
    FEATURE_DIM,
    MAX_CAPTION_LENGTH,
    SHAPES,
    _FILL_PROTOTYPES,
    _PER_COLOUR,
    caption_words,
    encode_caption,
    image_features,
    make_shapes_captions,
    vocabulary,
)


@pytest.fixture(scope="module")
def small_set():
    return make_shapes_captions(num_train=60, num_val=20, seed=1)


def test_deterministic_for_a_seed(small_set):
    again = make_shapes_captions(num_train=60, num_val=20, seed=1)
    for key in ("train_captions", "val_captions", "train_features", "train_images", "val_images"):
        assert np.array_equal(small_set[key], again[key]), key
    other = make_shapes_captions(num_train=60, num_val=20, seed=2)
    assert not np.array_equal(small_set["train_images"], other["train_images"])


def test_layout_and_dtypes(small_set):
    d = small_set
    assert d["train_captions"].shape == (60, MAX_CAPTION_LENGTH)
    assert np.issubdtype(d["train_captions"].dtype, np.integer)
    assert np.array_equal(d["train_image_idxs"], np.arange(60))
    assert d["train_features"].shape == (60, FEATURE_DIM) and d["train_features"].dtype == np.float32
    assert d["val_images"].shape == (20, 48, 48, 3) and d["val_images"].dtype == np.uint8


def test_vocabulary_special_tokens():
    idx_to_word, word_to_idx = vocabulary()
    assert idx_to_word[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"]
    assert all(idx_to_word[i] == w for w, i in word_to_idx.items())
    for word in ("a", "left", "of", "above", "big", "small") + COLOURS + SHAPES:
        assert word in word_to_idx


def test_captions_are_padded_sentences(small_set):
    _, w2i = vocabulary()
    for row in small_set["train_captions"]:
        assert row[0] == w2i["<START>"]
        end = list(row).index(w2i["<END>"])
        assert np.all(row[end + 1:] == w2i["<NULL>"])
        assert w2i["<NULL>"] not in row[:end]


def test_captions_match_scenes(small_set):
    idx_to_word, _ = vocabulary()
    texts = decode_captions(small_set["val_captions"], idx_to_word)
    for text, scene in zip(texts, small_set["val_scenes"]):
        assert text == " ".join(caption_words(scene))
        assert text.count(" a ") + 1 == len(scene)
        for obj in scene:
            assert f"a {obj['size']} {obj['colour']} {obj['shape']}" in text


def test_grammar_hand_examples():
    red = {"shape": "circle", "colour": "red", "size": "big", "side": 12, "top": 10, "left": 30}
    blue = {"shape": "square", "colour": "blue", "size": "small", "side": 6, "top": 12, "left": 2}
    green = {"shape": "triangle", "colour": "green", "size": "small", "side": 6, "top": 40, "left": 32}
    assert " ".join(caption_words([red])) == "a big red circle"
    assert " ".join(caption_words([red, blue])) == "a small blue square left of a big red circle"
    assert " ".join(caption_words([green, red])) == "a big red circle above a small green triangle"
    _, w2i = vocabulary()
    ids = encode_caption(["a", "big", "pink", "circle"], w2i, length=8)
    assert ids.tolist() == [w2i["<START>"], w2i["a"], w2i["big"], w2i["<UNK>"], w2i["circle"],
                            w2i["<END>"], w2i["<NULL>"], w2i["<NULL>"]]


def test_features_encode_shape_colour_and_size(small_set):
    # the descriptor is computed from pixels; its shape and size scores must agree with the scene
    feats = small_set["train_features"]
    order = ("triangle", "circle", "square")  # order of the fill-ratio prototypes
    assert len(_FILL_PROTOTYPES) == 3
    for f, scene in zip(feats, small_set["train_scenes"]):
        present = f[0::_PER_COLOUR][:len(COLOURS)]
        assert present.sum() == len(scene)
        for obj in scene:
            block = f[COLOURS.index(obj["colour"]) * _PER_COLOUR:][:_PER_COLOUR]
            assert block[0] == 1.0
            assert order[int(np.argmax(block[1:4]))] == obj["shape"]
            assert ("small", "big")[int(np.argmax(block[5:7]))] == obj["size"]


def test_image_features_rejects_bad_images():
    with pytest.raises(ValueError, match=r"shape \(N, S, S, 3\)"):
        image_features(np.zeros((2, 8, 8, 1), dtype=np.uint8))


def test_bad_arguments():
    with pytest.raises(ValueError, match="image_size"):
        make_shapes_captions(num_train=2, num_val=2, image_size=16)
    with pytest.raises(ValueError, match="noise"):
        make_shapes_captions(num_train=2, num_val=2, noise=-1)
