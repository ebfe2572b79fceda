"""Captioning RNN and character-level model: loss, gradients and sampling with identical parameters."""
import numpy as np
import pytest
from conftest import assert_same

WORDS = {"<NULL>": 0, "<START>": 1, "<END>": 2, "<UNK>": 3, "a": 4, "cat": 5, "dog": 6, "sits": 7, "runs": 8}


def captioner(factory, cell_type):
    module = factory("classifiers.rnn")
    return module.CaptioningRNN(WORDS, input_dim=6, wordvec_dim=5, hidden_dim=7, cell_type=cell_type,
                                dtype=np.float64, seed=21)


def same_params(mine, expected):
    mine.params = {key: value.copy() for key, value in expected.params.items()}


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_captioning_loss(student, reference, cell_type):
    expected, mine = captioner(reference, cell_type), captioner(student, cell_type)
    same_params(mine, expected)
    r = np.random.default_rng(17001)
    features = r.normal(size=(4, 6))
    captions = r.integers(0, len(WORDS), size=(4, 6))
    captions[:, 0] = WORDS["<START>"]
    captions[0, 4:] = WORDS["<NULL>"]
    assert_same(mine.loss(features, captions), expected.loss(features, captions), rtol=1e-5, atol=1e-8,
                where="loss and grads")


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_captioning_sample(student, reference, cell_type):
    expected, mine = captioner(reference, cell_type), captioner(student, cell_type)
    for key in expected.params:  # larger weights: longer, more varied captions
        expected.params[key] = expected.params[key] * 3
    same_params(mine, expected)
    features = np.random.default_rng(17002).normal(size=(5, 6))
    assert_same(mine.sample(features, max_length=8), expected.sample(features, max_length=8), where="captions")


def char_model(factory, cell_type):
    module = factory("char_rnn")
    return module.CharRNN(module.CharVocab("abcdef"), wordvec_dim=4, hidden_dim=6, cell_type=cell_type,
                          dtype=np.float64, seed=22)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_char_rnn_loss(student, reference, cell_type):
    expected, mine = char_model(reference, cell_type), char_model(student, cell_type)
    same_params(mine, expected)
    r = np.random.default_rng(18001)
    x, y = r.integers(0, 6, size=(3, 7)), r.integers(0, 6, size=(3, 7))
    assert_same(mine.loss(x, y), expected.loss(x, y), rtol=1e-5, atol=1e-8, where="loss and grads")


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_char_rnn_sample_greedy(student, reference, cell_type):
    expected, mine = char_model(reference, cell_type), char_model(student, cell_type)
    for key in expected.params:  # larger weights: clear arg-maxes
        expected.params[key] = expected.params[key] * 3
    same_params(mine, expected)
    text = mine.sample("abc", length=15, temperature=0)
    assert text == expected.sample("abc", length=15, temperature=0), "greedy continuation (temperature 0)"


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_char_rnn_sample_temperature(student, reference, cell_type):
    """Sampling draws from softmax(scores / temperature): compare the frequencies of the
    first generated character (any random source; 400 draws, 4 standard errors)."""
    expected, mine = char_model(reference, cell_type), char_model(student, cell_type)
    same_params(mine, expected)
    letters = "abcdef"

    def frequencies(model, draws, seeds):
        counts = np.zeros(len(letters))
        for seed in seeds[:draws]:
            counts[letters.index(model.sample("abc", length=1, temperature=0.5, rng=seed)[-1])] += 1
        return counts / draws

    mine_freq = frequencies(mine, 400, list(range(400)))
    expected_freq = frequencies(expected, 4000, list(range(10000, 14000)))
    worst = int(np.argmax(np.abs(mine_freq - expected_freq)))
    assert abs(mine_freq[worst] - expected_freq[worst]) < 0.1, \
        f"character {letters[worst]!r} drawn {mine_freq[worst]:.2f} of the time at temperature 0.5; " \
        "is the temperature applied to the scores before the softmax?"
