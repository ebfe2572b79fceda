"""Recurrent layers against the reference: forward outputs, then gradients through the
student's own forward and backward (as in the notebooks)."""
import numpy as np
import pytest
from conftest import assert_same, forward_backward

N, T, D, H, V = 3, 5, 4, 6, 7

CASES = {
    "rnn_step": ("rnn_step_forward", "rnn_step_backward",
                 lambda r: (r.normal(size=(N, D)), r.normal(size=(N, H)), 0.3 * r.normal(size=(D, H)),
                            0.3 * r.normal(size=(H, H)), r.normal(size=H))),
    "rnn": ("rnn_forward", "rnn_backward",
            lambda r: (r.normal(size=(N, T, D)), r.normal(size=(N, H)), 0.3 * r.normal(size=(D, H)),
                       0.3 * r.normal(size=(H, H)), r.normal(size=H))),
    "word_embedding": ("word_embedding_forward", "word_embedding_backward",
                       lambda r: (r.integers(0, V, size=(N, T)), r.normal(size=(V, D)))),
    "lstm": ("lstm_forward", "lstm_backward",
             lambda r: (r.normal(size=(N, T, D)), r.normal(size=(N, H)), 0.3 * r.normal(size=(D, 4 * H)),
                        0.3 * r.normal(size=(H, 4 * H)), r.normal(size=4 * H))),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [13001, 13002])
def test_forward(student, reference, case, seed):
    forward, _, build = CASES[case]
    args = build(np.random.default_rng(seed))
    mine, _, _ = forward_backward(student("rnn_layers"), forward, None, args, seed)
    expected, _, _ = forward_backward(reference("rnn_layers"), forward, None, args, seed)
    assert_same(mine, expected, where=forward)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [14001, 14002])
def test_backward(student, reference, case, seed):
    forward, backward, build = CASES[case]
    args = build(np.random.default_rng(seed))
    _, mine, _ = forward_backward(student("rnn_layers"), forward, backward, args, seed)
    _, expected, _ = forward_backward(reference("rnn_layers"), forward, backward, args, seed)
    assert_same(mine, expected, rtol=1e-5, atol=1e-7, where=backward)


def lstm_step(module, seed, backward):
    r = np.random.default_rng(seed)
    x, h, c = r.normal(size=(N, D)), r.normal(size=(N, H)), r.normal(size=(N, H))
    Wx, Wh, b = 0.3 * r.normal(size=(D, 4 * H)), 0.3 * r.normal(size=(H, 4 * H)), r.normal(size=4 * H)
    next_h, next_c, cache = module.lstm_step_forward(x, h, c, Wx, Wh, b)
    if not backward:
        return next_h, next_c
    return module.lstm_step_backward(r.normal(size=(N, H)), r.normal(size=(N, H)), cache)


@pytest.mark.parametrize("seed", [15001, 15002])
def test_forward_lstm_step(student, reference, seed):
    assert_same(lstm_step(student("rnn_layers"), seed, False), lstm_step(reference("rnn_layers"), seed, False),
                where="lstm_step_forward")


@pytest.mark.parametrize("seed", [16001, 16002])
def test_backward_lstm_step(student, reference, seed):
    assert_same(lstm_step(student("rnn_layers"), seed, True), lstm_step(reference("rnn_layers"), seed, True),
                rtol=1e-5, atol=1e-7, where="lstm_step_backward")
