"""Affine, ReLU, the two losses and dropout: fixed values, gradients, bad input."""
import numpy as np
import pytest

from course_utils.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from course_utils.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)


@pytest.fixture
def rng():
    return np.random.default_rng(231)


# ---------------------------------------------------------------- affine

def test_affine_forward_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).reshape(2, 1, 3)  # flattened to (2, 3)
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([0.5, -1.0])
    out, _ = affine_forward(x, w, b)
    np.testing.assert_allclose(out, [[4.5, 4.0], [10.5, 10.0]])


def test_affine_backward_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).reshape(2, 3, 1)
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    _, cache = affine_forward(x, w, np.zeros(2))
    dx, dw, db = affine_backward(np.ones((2, 2)), cache)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx[:, :, 0], [[1, 1, 2], [1, 1, 2]])
    np.testing.assert_allclose(dw, [[5, 5], [7, 7], [9, 9]])
    np.testing.assert_allclose(db, [2, 2])


def test_affine_gradients(rng):
    x = rng.standard_normal((3, 2, 3))
    w = rng.standard_normal((6, 4))
    b = rng.standard_normal(4)
    dout = rng.standard_normal((3, 4))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    num_dx = eval_numerical_gradient_array(lambda v: affine_forward(v, w, b)[0], x, dout)
    num_dw = eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], w, dout)
    num_db = eval_numerical_gradient_array(lambda v: affine_forward(x, w, v)[0], b, dout)
    assert rel_error(dx, num_dx) < 1e-7
    assert rel_error(dw, num_dw) < 1e-7
    assert rel_error(db, num_db) < 1e-7


def test_affine_rejects_bad_input(rng):
    x = rng.standard_normal((2, 2, 3))
    b = np.zeros(4)
    with pytest.raises(ValueError, match=r"w must have shape \(6, any\), got \(5, 4\)"):
        affine_forward(x, np.zeros((5, 4)), b)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\), got \(3,\)"):
        affine_forward(x, np.zeros((6, 4)), np.zeros(3))
    with pytest.raises(ValueError, match=r"x must have shape \(N, d_1, \.\.\., d_k\)"):
        affine_forward(np.zeros(6), np.zeros((6, 4)), b)
    with pytest.raises(ValueError, match="x must have a floating-point dtype"):
        affine_forward(np.zeros((2, 6), dtype=int), np.zeros((6, 4)), b)
    _, cache = affine_forward(x, np.zeros((6, 4)), b)
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 4\), got \(4, 2\)"):
        affine_backward(np.zeros((4, 2)), cache)


# ---------------------------------------------------------------- relu

def test_relu_forward_by_hand():
    x = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    out, _ = relu_forward(x)
    np.testing.assert_array_equal(out, [[0, 0, 2], [3, 0, 0.25]])
    assert np.all(x == [[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]]), "relu_forward changed its input"


def test_relu_backward_by_hand():
    x = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.25]])
    _, cache = relu_forward(x)
    dx = relu_backward(np.full_like(x, 2.0), cache)
    np.testing.assert_array_equal(dx, [[0, 0, 2], [2, 0, 2]])  # no gradient at exactly 0


def test_relu_gradient(rng):
    x = rng.standard_normal((4, 5))
    dout = rng.standard_normal((4, 5))
    _, cache = relu_forward(x)
    num = eval_numerical_gradient_array(lambda v: relu_forward(v)[0], x, dout)
    assert rel_error(relu_backward(dout, cache), num) < 1e-9


def test_relu_rejects_bad_input():
    with pytest.raises(ValueError, match="x must be a numpy array"):
        relu_forward([1.0, -1.0])
    _, cache = relu_forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 3\)"):
        relu_backward(np.zeros((3, 2)), cache)


# ---------------------------------------------------------------- losses

def test_svm_loss_by_hand():
    # example 0: margins 2 - 1 + 1 = 2 and 3 - 1 + 1 = 3; example 1: all margins negative
    x = np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 1.5]])
    y = np.array([0, 0])
    loss, dx = svm_loss(x, y)
    assert loss == pytest.approx(2.5)
    np.testing.assert_allclose(dx, [[-1.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


def test_softmax_loss_by_hand():
    loss, dx = softmax_loss(np.zeros((1, 4)), np.array([1]))
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(dx, [[0.25, -0.75, 0.25, 0.25]])
    # p = (1/4, 3/4): loss of the second class is -log(3/4)
    loss, _ = softmax_loss(np.array([[0.0, np.log(3.0)]]), np.array([1]))
    assert loss == pytest.approx(-np.log(0.75))


def test_softmax_loss_is_numerically_stable():
    x = np.array([[1000.0, 1000.0], [1000.0, 0.0]])
    loss, dx = softmax_loss(x, np.array([0, 1]))
    assert np.isfinite(dx).all()
    assert loss == pytest.approx((np.log(2) + 1000.0) / 2)


@pytest.mark.parametrize("loss_fn", [svm_loss, softmax_loss])
def test_loss_gradients(rng, loss_fn):
    x = 0.5 * rng.standard_normal((6, 5))
    y = rng.integers(5, size=6)
    loss, dx = loss_fn(x, y)
    assert isinstance(loss, float)
    num = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x, verbose=False)
    assert rel_error(dx, num) < 1e-7


def test_softmax_loss_of_random_scores_is_near_log_c(rng):
    x = 1e-3 * rng.standard_normal((50, 10))
    loss, _ = softmax_loss(x, rng.integers(10, size=50))
    assert loss == pytest.approx(np.log(10), abs=1e-2)


@pytest.mark.parametrize("loss_fn", [svm_loss, softmax_loss])
def test_losses_reject_bad_labels(loss_fn):
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 2\]"):
        loss_fn(x, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"y must have shape \(2,\)"):
        loss_fn(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integer labels"):
        loss_fn(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"x must have 2 dimensions"):
        loss_fn(np.zeros((2, 3, 1)), np.array([0, 1]))


# ---------------------------------------------------------------- dropout

@pytest.mark.parametrize("p", [0.25, 0.6, 0.9])
def test_dropout_keeps_about_p_and_preserves_the_mean(p):
    x = np.full((400, 500), 2.0)
    out, _ = dropout_forward(x, {"p": p, "mode": "train", "seed": 0})
    assert np.mean(out != 0) == pytest.approx(p, abs=0.01)
    assert set(np.unique(out)) == {0.0, 2.0 / p}
    assert out.mean() == pytest.approx(2.0, rel=0.02)


def test_dropout_seed_controls_the_mask(rng):
    x = rng.standard_normal((20, 30))
    a, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    b, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    c, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 8})
    d, _ = dropout_forward(x, {"p": 0.5, "mode": "train"})
    e, _ = dropout_forward(x, {"p": 0.5, "mode": "train"})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(d, e), "without a seed every call must draw a fresh mask"


def test_dropout_test_mode_and_p_one_are_identity(rng):
    x = rng.standard_normal((5, 6))
    out, _ = dropout_forward(x, {"p": 0.3, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    out, _ = dropout_forward(x, {"p": 1, "mode": "train", "seed": 1})
    np.testing.assert_array_equal(out, x)


def test_dropout_backward_is_the_identity_in_test_mode(rng):
    x = rng.standard_normal((5, 6))
    _, cache = dropout_forward(x, {"p": 0.3, "mode": "test"})
    dout = rng.standard_normal((5, 6))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_dropout_backward_masks_like_the_forward(rng):
    x = rng.standard_normal((10, 8)) + 5.0  # no zeros in x, so out == 0 marks dropped units
    param = {"p": 0.4, "mode": "train", "seed": 3}
    out, cache = dropout_forward(x, param)
    dout = rng.standard_normal(x.shape)
    dx = dropout_backward(dout, cache)
    np.testing.assert_allclose(dx, np.where(out != 0, dout / 0.4, 0.0))
    num = eval_numerical_gradient_array(lambda v: dropout_forward(v, param)[0], x, dout)
    assert rel_error(dx, num) < 1e-9


def test_dropout_cache_is_a_snapshot():
    x = np.ones((4, 4))
    param = {"p": 0.5, "mode": "train", "seed": 0}
    out, cache = dropout_forward(x, param)
    param["mode"] = "test"  # e.g. a model switching to evaluation before backprop
    np.testing.assert_array_equal(dropout_backward(np.ones_like(x), cache), out)


def test_dropout_keeps_float32():
    x = np.ones((3, 4), dtype=np.float32)
    out, _ = dropout_forward(x, {"p": np.float64(0.5), "mode": "train", "seed": 0})
    assert out.dtype == np.float32


def test_dropout_backward_keeps_float32():
    x = np.ones((3, 4), dtype=np.float32)
    _, cache = dropout_forward(x, {"p": np.float64(0.5), "mode": "train", "seed": 0})
    assert dropout_backward(np.ones_like(x), cache).dtype == np.float32


def test_dropout_rejects_bad_params():
    x = np.ones((2, 2))
    for p in (0, 1.5, -0.2, "0.5"):
        with pytest.raises(ValueError, match=r"probability of keeping a unit and must be in \(0, 1\]"):
            dropout_forward(x, {"p": p, "mode": "train"})
    with pytest.raises(ValueError, match=r"missing key\(s\) \['mode'\]"):
        dropout_forward(x, {"p": 0.5})
    with pytest.raises(ValueError, match="dropout_param\\['mode'\\] must be 'train' or 'test', got 'eval'"):
        dropout_forward(x, {"p": 0.5, "mode": "eval"})
    _, cache = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 0})
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 2\)"):
        dropout_backward(np.ones((2, 3)), cache)


def test_layers_keep_float32():
    x = np.ones((2, 3), dtype=np.float32)
    w = np.ones((3, 4), dtype=np.float32)
    b = np.zeros(4, dtype=np.float32)
    out, cache = affine_forward(x, w, b)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in affine_backward(out, cache))
    out, cache = relu_forward(out)
    assert out.dtype == np.float32 and relu_backward(out, cache).dtype == np.float32
    _, dx = softmax_loss(out, np.array([0, 1]))
    assert dx.dtype == np.float32
