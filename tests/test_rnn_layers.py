import math
import warnings

import numpy as np
import pytest

from course_utils.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from course_utils.rnn_layers import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)


def _randn(rng, *shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------- sigmoid

def test_sigmoid_fixed_values():
    x = np.array([0.0, math.log(3.0), -math.log(3.0)])
    assert np.allclose(sigmoid(x), [0.5, 0.75, 0.25], atol=1e-15)


def test_sigmoid_is_stable_for_large_inputs():
    x = np.array([-1e4, -800.0, 800.0, 1e4], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = sigmoid(x)
    assert np.array_equal(out, [0.0, 0.0, 1.0, 1.0])
    assert sigmoid(np.float32([100.0])).dtype == np.float32


# ---------------------------------------------------------------- vanilla RNN

def test_rnn_step_forward_hand_value():
    # a = 1*0.2 + (-1)*0.1 + 0.5*2.0 - 0.1 = 1.0
    x = np.array([[1.0, -1.0]])
    prev_h = np.array([[0.5]])
    Wx = np.array([[0.2], [0.1]])
    Wh = np.array([[2.0]])
    b = np.array([-0.1])
    next_h, _ = rnn_step_forward(x, prev_h, Wx, Wh, b)
    assert next_h.shape == (1, 1)
    assert abs(next_h[0, 0] - math.tanh(1.0)) < 1e-12


def test_rnn_forward_with_zero_weights_is_tanh_of_bias():
    N, T, D, H = 2, 3, 4, 2
    b = np.array([0.5, -1.0])
    h, _ = rnn_forward(np.ones((N, T, D)), np.ones((N, H)), np.zeros((D, H)), np.zeros((H, H)), b)
    assert h.shape == (N, T, H)
    assert np.allclose(h, np.tanh([0.5, -1.0]))


def test_rnn_step_backward_gradcheck():
    rng = np.random.default_rng(0)
    N, D, H = 4, 5, 6
    x, h = _randn(rng, N, D), _randn(rng, N, H)
    Wx, Wh, b = _randn(rng, D, H), _randn(rng, H, H), _randn(rng, H)
    out, cache = rnn_step_forward(x, h, Wx, Wh, b)
    dnext = _randn(rng, *out.shape)
    grads = rnn_step_backward(dnext, cache)
    inputs = [x, h, Wx, Wh, b]
    for k, analytic in enumerate(grads):
        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return rnn_step_forward(*args)[0]
        numeric = eval_numerical_gradient_array(f, inputs[k], dnext)
        assert rel_error(numeric, analytic) < 1e-7, k


def test_rnn_backward_gradcheck():
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 4, 3, 5
    x, h0 = _randn(rng, N, T, D), _randn(rng, N, H)
    Wx, Wh, b = _randn(rng, D, H), _randn(rng, H, H) * 0.5, _randn(rng, H)
    out, cache = rnn_forward(x, h0, Wx, Wh, b)
    dout = _randn(rng, *out.shape)
    grads = rnn_backward(dout, cache)
    inputs = [x, h0, Wx, Wh, b]
    for k, analytic in enumerate(grads):
        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return rnn_forward(*args)[0]
        numeric = eval_numerical_gradient_array(f, inputs[k], dout)
        assert analytic.shape == inputs[k].shape
        assert rel_error(numeric, analytic) < 1e-7, k


def test_rnn_forward_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"Wh must have shape \(3, 3\)"):
        rnn_forward(np.zeros((2, 4, 5)), np.zeros((2, 3)), np.zeros((5, 3)), np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn_forward(np.zeros((2, 4, 5)), np.zeros((3, 3)), np.zeros((5, 3)), np.zeros((3, 3)), np.zeros(3))


def test_rnn_step_forward_keeps_float32():
    args = [np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32), np.zeros((3, 4), np.float32),
            np.zeros((4, 4), np.float32), np.zeros(4, np.float32)]
    assert rnn_step_forward(*args)[0].dtype == np.float32


# ---------------------------------------------------------------- word embeddings

def test_word_embedding_forward_picks_rows():
    W = np.arange(12, dtype=np.float64).reshape(4, 3)
    x = np.array([[0, 3], [3, 1]])
    out, _ = word_embedding_forward(x, W)
    assert out.shape == (2, 2, 3)
    assert np.array_equal(out[0, 1], [9.0, 10.0, 11.0])
    assert np.array_equal(out[1, 1], [3.0, 4.0, 5.0])


def test_word_embedding_backward_sums_repeated_words():
    W = np.zeros((4, 2))
    x = np.array([[1, 1], [1, 2]])
    _, cache = word_embedding_forward(x, W)
    dout = np.array([[[1.0, 2.0], [10.0, 20.0]], [[100.0, 200.0], [0.5, 0.5]]])
    dW = word_embedding_backward(dout, cache)
    assert np.array_equal(dW, [[0, 0], [111, 222], [0.5, 0.5], [0, 0]])


def test_word_embedding_gradcheck():
    rng = np.random.default_rng(2)
    N, T, V, D = 3, 4, 5, 6
    x = rng.integers(V, size=(N, T))
    W = _randn(rng, V, D)
    out, cache = word_embedding_forward(x, W)
    dout = _randn(rng, *out.shape)
    dW = word_embedding_backward(dout, cache)
    numeric = eval_numerical_gradient_array(lambda w: word_embedding_forward(x, w)[0], W, dout)
    assert rel_error(numeric, dW) < 1e-9


def test_word_embedding_rejects_bad_indices():
    W = np.zeros((4, 2))
    with pytest.raises(ValueError, match="integer word indices"):
        word_embedding_forward(np.zeros((2, 3)), W)
    with pytest.raises(ValueError, match=r"indices in \[0, 3\]"):
        word_embedding_forward(np.array([[0, 4]]), W)
    with pytest.raises(ValueError, match=r"indices in \[0, 3\]"):
        word_embedding_forward(np.array([[-1, 0]]), W)
    with pytest.raises(ValueError, match="integer word indices, got bool"):
        word_embedding_forward(np.array([True, False]), W)
    _, cache = word_embedding_forward(np.array([0, 1]), W)
    with pytest.raises(ValueError, match="dout must have a floating-point dtype"):
        word_embedding_backward(np.ones((2, 2), dtype=int), cache)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 3), ()])
def test_word_embedding_any_index_shape(shape):
    """1-D indices (one step, as CaptioningRNN.sample feeds them), (N, T), more axes, a scalar."""
    W = np.arange(12, dtype=np.float64).reshape(4, 3)  # row v = 3v, 3v + 1, 3v + 2
    x = (np.arange(int(np.prod(shape))) % 4).reshape(shape)
    out, cache = word_embedding_forward(x, W)
    assert out.shape == shape + (3,)
    np.testing.assert_array_equal(out[..., 0], 3 * x)
    rng = np.random.default_rng(5)
    dout = rng.standard_normal(out.shape)
    dW = word_embedding_backward(dout, cache)
    numeric = eval_numerical_gradient_array(lambda w: word_embedding_forward(x, w)[0], W.copy(), dout)
    assert dW.shape == W.shape and rel_error(numeric, dW) < 1e-9


def test_word_embedding_fixed_values_for_one_step_and_lists():
    W = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    out, cache = word_embedding_forward([2, 0, 2], W)  # a list of indices is converted
    np.testing.assert_array_equal(out, [[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]])
    dW = word_embedding_backward(np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 20.0]]), cache)
    np.testing.assert_array_equal(dW, [[3.0, 4.0], [0.0, 0.0], [11.0, 22.0]])


# ---------------------------------------------------------------- temporal affine / softmax

def test_temporal_affine_hand_value_and_gradcheck():
    x = np.array([[[1.0, 2.0]]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = np.array([0.0, 1.0, -1.0])
    out, _ = temporal_affine_forward(x, w, b)
    assert np.allclose(out, [[[2.0, 5.0, 0.0]]])

    rng = np.random.default_rng(3)
    x, w, b = _randn(rng, 2, 3, 4), _randn(rng, 4, 5), _randn(rng, 5)
    out, cache = temporal_affine_forward(x, w, b)
    dout = _randn(rng, *out.shape)
    grads = temporal_affine_backward(dout, cache)
    inputs = [x, w, b]
    for k, analytic in enumerate(grads):
        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return temporal_affine_forward(*args)[0]
        assert rel_error(eval_numerical_gradient_array(f, inputs[k], dout), analytic) < 1e-8


def test_temporal_softmax_loss_uniform_scores():
    # zero scores: every kept step costs log(V); sum over kept steps, divided by N
    N, T, V = 4, 5, 7
    mask = np.ones((N, T), dtype=bool)
    mask[0, 3:] = False  # 3 steps dropped
    loss, _ = temporal_softmax_loss(np.zeros((N, T, V)), np.zeros((N, T), dtype=int), mask)
    assert loss == pytest.approx((N * T - 2) * math.log(V) / N)


def test_temporal_softmax_loss_hand_value():
    # one step, scores (0, log 3): p(target=1) = 3/4, loss = -log(3/4) / N with N = 1
    x = np.array([[[0.0, math.log(3.0)]]])
    loss, dx = temporal_softmax_loss(x, np.array([[1]]), np.array([[True]]))
    assert loss == pytest.approx(-math.log(0.75))
    assert np.allclose(dx, [[[0.25, -0.25]]])


def test_temporal_softmax_loss_ignores_masked_steps():
    rng = np.random.default_rng(4)
    N, T, V = 3, 4, 6
    x = _randn(rng, N, T, V)
    y = rng.integers(V, size=(N, T))
    mask = rng.random((N, T)) > 0.4
    mask[0, 0] = False
    loss, dx = temporal_softmax_loss(x, y, mask)
    x2 = x.copy()
    x2[~mask] = _randn(rng, int((~mask).sum()), V) * 50
    loss2, dx2 = temporal_softmax_loss(x2, y, mask)
    assert loss2 == pytest.approx(loss, rel=1e-12)
    assert np.array_equal(dx2, dx)
    assert np.all(dx[~mask] == 0)


def test_temporal_softmax_loss_gradcheck_and_stability():
    rng = np.random.default_rng(5)
    N, T, V = 4, 3, 5
    x = _randn(rng, N, T, V)
    y = rng.integers(V, size=(N, T))
    mask = rng.random((N, T)) > 0.3
    loss, dx = temporal_softmax_loss(x, y, mask)
    numeric = eval_numerical_gradient(lambda v: temporal_softmax_loss(v, y, mask)[0], x, verbose=False)
    assert rel_error(numeric, dx) < 1e-7
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        big_loss, big_dx = temporal_softmax_loss(x * 1e4, y, mask)
    assert np.isfinite(big_loss) and np.all(np.isfinite(big_dx))


def test_temporal_softmax_loss_rejects_bad_mask_and_targets():
    x = np.zeros((2, 3, 4))
    y = np.zeros((2, 3), dtype=int)
    with pytest.raises(ValueError, match="mask must have dtype bool"):
        temporal_softmax_loss(x, y, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 3\)"):
        temporal_softmax_loss(x, y, np.ones((3, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"targets in \[0, 3\]"):
        temporal_softmax_loss(x, y + 4, np.ones((2, 3), dtype=bool))


# ---------------------------------------------------------------- LSTM

def test_lstm_step_forward_zero_weights_hand_value():
    # zero weights and bias: i = f = o = 1/2, g = 0, so next_c = prev_c / 2
    N, D, H = 2, 3, 2
    prev_c = np.array([[2.0, -4.0], [0.0, 1.0]])
    next_h, next_c, _ = lstm_step_forward(np.ones((N, D)), np.ones((N, H)), prev_c,
                                          np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H))
    assert np.allclose(next_c, [[1.0, -2.0], [0.0, 0.5]])
    assert np.allclose(next_h, [[0.5 * math.tanh(1.0), 0.5 * math.tanh(-2.0)], [0.0, 0.5 * math.tanh(0.5)]])


def test_lstm_step_forward_gate_order():
    # bias blocks i, f, o, g chosen so that i = 3/4, f = 1/4, o = 1/2, g = 0.8
    b = np.array([math.log(3.0), -math.log(3.0), 0.0, math.atanh(0.8)])
    next_h, next_c, _ = lstm_step_forward(np.zeros((1, 2)), np.zeros((1, 1)), np.array([[2.0]]),
                                          np.zeros((2, 4)), np.zeros((1, 4)), b)
    # next_c = f * prev_c + i * g = 0.25 * 2 + 0.75 * 0.8
    assert next_c[0, 0] == pytest.approx(1.1, abs=1e-12)
    assert next_h[0, 0] == pytest.approx(0.5 * math.tanh(1.1), abs=1e-12)


def test_lstm_forward_starts_from_zero_cell():
    # zero weights, g = 1/2: c_t = c_{t-1} / 2 + 1/4 with c_0 = 0 -> 0.25, 0.375, 0.4375
    H = 1
    b = np.array([0.0, 0.0, 0.0, math.atanh(0.5)])
    h, _ = lstm_forward(np.ones((1, 3, 2)), np.full((1, H), 7.0), np.zeros((2, 4)), np.zeros((1, 4)), b)
    assert np.allclose(h[0, :, 0], 0.5 * np.tanh([0.25, 0.375, 0.4375]))


def test_lstm_step_backward_gradcheck():
    rng = np.random.default_rng(6)
    N, D, H = 3, 4, 5
    x, h, c = _randn(rng, N, D), _randn(rng, N, H), _randn(rng, N, H)
    Wx, Wh, b = _randn(rng, D, 4 * H), _randn(rng, H, 4 * H), _randn(rng, 4 * H)
    next_h, next_c, cache = lstm_step_forward(x, h, c, Wx, Wh, b)
    dnext_h, dnext_c = _randn(rng, N, H), _randn(rng, N, H)
    grads = lstm_step_backward(dnext_h, dnext_c, cache)
    inputs = [x, h, c, Wx, Wh, b]
    for k, analytic in enumerate(grads):
        def f_h(v, k=k):
            args = list(inputs)
            args[k] = v
            return lstm_step_forward(*args)[0]

        def f_c(v, k=k):
            args = list(inputs)
            args[k] = v
            return lstm_step_forward(*args)[1]
        numeric = (eval_numerical_gradient_array(f_h, inputs[k], dnext_h)
                   + eval_numerical_gradient_array(f_c, inputs[k], dnext_c))
        assert analytic.shape == inputs[k].shape
        assert rel_error(numeric, analytic) < 1e-7, k


def test_lstm_backward_gradcheck():
    rng = np.random.default_rng(7)
    N, T, D, H = 2, 3, 4, 3
    x, h0 = _randn(rng, N, T, D), _randn(rng, N, H)
    Wx, Wh, b = _randn(rng, D, 4 * H), _randn(rng, H, 4 * H), _randn(rng, 4 * H)
    out, cache = lstm_forward(x, h0, Wx, Wh, b)
    dout = _randn(rng, *out.shape)
    grads = lstm_backward(dout, cache)
    inputs = [x, h0, Wx, Wh, b]
    for k, analytic in enumerate(grads):
        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return lstm_forward(*args)[0]
        numeric = eval_numerical_gradient_array(f, inputs[k], dout)
        assert rel_error(numeric, analytic) < 1e-7, k


def test_lstm_rejects_wrong_gate_width():
    with pytest.raises(ValueError, match=r"Wx must have shape \(4, 12\)"):
        lstm_forward(np.zeros((2, 3, 4)), np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((3, 12)), np.zeros(12))
    with pytest.raises(ValueError, match="prev_c must have shape"):
        lstm_step_forward(np.zeros((2, 4)), np.zeros((2, 3)), np.zeros((2, 4)),
                          np.zeros((4, 12)), np.zeros((3, 12)), np.zeros(12))
