import math

import numpy as np
import pytest

from course_utils.char_rnn import (
    CharRNN,
    CharVocab,
    bits_per_char,
    load_python_corpus,
    split_text,
    train_char_rnn,
    unigram_bits_per_char,
)
from course_utils.gradient_check import eval_numerical_gradient, rel_error


def test_vocab_roundtrip_and_unknown_character():
    vocab = CharVocab.from_text("hello world")
    assert vocab.chars == " dehlorw" and len(vocab) == 8
    ids = vocab.encode("hello")
    assert ids.tolist() == [3, 2, 4, 4, 5]
    assert vocab.decode(ids) == "hello"
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.encode("z")


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_char_rnn_gradcheck(cell_type):
    rng = np.random.default_rng(0)
    vocab = CharVocab("abcde")
    model = CharRNN(vocab, wordvec_dim=3, hidden_dim=4, cell_type=cell_type, dtype=np.float64, seed=0)
    for name in model.params:
        model.params[name] = rng.standard_normal(model.params[name].shape) * 0.5
    x = rng.integers(5, size=(2, 4))
    y = rng.integers(5, size=(2, 4))
    loss, grads = model.loss(x, y)
    assert set(grads) == set(model.params)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(x, y)[0], param, verbose=False)
        # relative error, except for entries so small (< 1e-9) that only round-off is left
        assert np.allclose(numeric, grads[name], rtol=1e-5, atol=1e-9), (name, rel_error(numeric, grads[name]))


def test_uniform_model_scores_log2_v_bits_per_char():
    # zero output weights: every character has probability 1/V, whatever the context
    vocab = CharVocab("abcdefgh")
    model = CharRNN(vocab, hidden_dim=5, dtype=np.float64, seed=0)
    model.params["W_vocab"][:] = 0
    text = "abcabcdefghhgfedcba" * 3  # 57 characters: 56 predictions, windows of 10 plus a tail
    assert bits_per_char(model, text, seq_length=10, batch_size=2) == pytest.approx(3.0, abs=1e-12)
    loss, _ = model.loss(vocab.encode("abc")[None], vocab.encode("bcd")[None])
    assert loss == pytest.approx(math.log(8))


def test_unigram_baseline_hand_value():
    # counts a: 2, b: 1 plus one each over the alphabet {a, b}: p(a) = 3/5, p(b) = 2/5
    expected = -(math.log2(3 / 5) + math.log2(2 / 5)) / 2
    assert unigram_bits_per_char("aab", "ab") == pytest.approx(expected)
    # an unseen validation character still gets probability 1 / (len(train) + |alphabet|)
    assert unigram_bits_per_char("aa", "c") == pytest.approx(-math.log2(1 / 4))


def test_training_beats_unigram_baseline():
    text = "the cat sat on the mat. " * 40
    train, val = split_text(text, val_fraction=0.2)
    vocab = CharVocab.from_text(text)
    model = CharRNN(vocab, wordvec_dim=8, hidden_dim=32, cell_type="lstm", seed=0)
    history = train_char_rnn(model, train, num_iterations=200, batch_size=16, seq_length=24,
                             optim_config={"learning_rate": 1e-2}, seed=0)
    assert len(history) == 200 and history[-1] < history[0]
    baseline = unigram_bits_per_char(train, val)
    assert bits_per_char(model, val, seq_length=24) < 0.5 * baseline


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_sample_is_reproducible_and_greedy_is_deterministic(cell_type):
    vocab = CharVocab("abc ")
    model = CharRNN(vocab, hidden_dim=6, cell_type=cell_type, seed=1)
    a = model.sample("ab", length=20, temperature=1.0, rng=3)
    assert a.startswith("ab") and len(a) == 22 and set(a) <= set("abc ")
    assert model.sample("ab", length=20, temperature=1.0, rng=3) == a
    assert model.sample("ab", length=20, temperature=0, rng=1) == model.sample("ab", length=20, temperature=0, rng=2)
    # a bias that dwarfs everything else makes greedy sampling repeat that character
    model.params["b_vocab"][vocab.char_to_idx["c"]] = 100.0
    assert model.sample("a", length=5, temperature=0) == "accccc"
    with pytest.raises(ValueError, match="seed_text"):
        model.sample("", length=5)
    with pytest.raises(ValueError, match="temperature"):
        model.sample("a", length=5, temperature=-1)


def test_loss_rejects_bad_ids():
    model = CharRNN(CharVocab("ab"), hidden_dim=3)
    with pytest.raises(ValueError, match="integer array of shape"):
        model.loss(np.zeros((2, 3)), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"ids in \[0, 1\]"):
        model.loss(np.full((2, 3), 2), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="same shape"):
        model.loss(np.zeros((2, 3), dtype=int), np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="more than seq_length"):
        train_char_rnn(model, "abab", seq_length=4)


def test_python_corpus_is_deterministic_and_bounded(tmp_path):
    text = load_python_corpus(max_chars=5000)
    assert len(text) == 5000 and text == load_python_corpus(max_chars=5000)
    assert text.isascii()
    path = tmp_path / "book.txt"
    path.write_text("Call me Ishmael. " * 10, encoding="utf-8")
    assert load_python_corpus(max_chars=8, path=path) == "Call me "
    with pytest.raises(ValueError, match="does not exist"):
        load_python_corpus(path=tmp_path / "missing.txt")


def test_split_text():
    assert split_text("abcdefghij", val_fraction=0.3) == ("abcdefg", "hij")
    with pytest.raises(ValueError, match="val_fraction"):
        split_text("abc", val_fraction=1.0)
