"""Naive convolution and max pooling: fixed values, gradients, bad input."""
import numpy as np
import pytest

from course_utils.gradient_check import eval_numerical_gradient_array, rel_error
from course_utils.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)


@pytest.fixture
def rng():
    return np.random.default_rng(231)


def _image(values):
    """A (1, 1, H, W) batch holding one single-channel image."""
    return np.asarray(values, dtype=np.float64)[None, None]


# ---------------------------------------------------------------- convolution

def test_conv_is_cross_correlation():
    x = _image(np.arange(9).reshape(3, 3))        # [[0 1 2] [3 4 5] [6 7 8]]
    w = _image([[1.0, 2.0], [0.0, 0.0]])          # out[i, j] = x[i, j] + 2 x[i, j+1]
    out, _ = conv_forward_naive(x, w, np.array([0.5]), {"stride": 1, "pad": 0})
    np.testing.assert_allclose(out[0, 0], [[2.5, 5.5], [11.5, 14.5]])


def test_conv_padding_and_stride():
    x = _image(np.arange(9).reshape(3, 3))
    w = _image(np.ones((3, 3)))
    # pad 1, stride 2: H' = 1 + (3 + 2 - 3) // 2 = 2; each window covers a 2x2 corner
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 2, "pad": 1})
    np.testing.assert_allclose(out[0, 0], [[0 + 1 + 3 + 4, 1 + 2 + 4 + 5], [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]])
    # pad 1, stride 1 keeps the size ('same' padding for a 3x3 filter)
    out, _ = conv_forward_naive(_image([[1.0, 2.0], [3.0, 4.0]]), w, np.zeros(1), {"stride": 1, "pad": 1})
    np.testing.assert_allclose(out[0, 0], [[10, 10], [10, 10]])


def test_conv_sums_over_channels_for_each_filter():
    x = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 2.0)])[None]   # (1, 2, 2, 2)
    w = np.array([[1.0, 10.0], [-1.0, 0.5]]).reshape(2, 2, 1, 1)        # two 1x1 filters
    out, _ = conv_forward_naive(x, w, np.array([0.0, 3.0]), {"stride": 1, "pad": 0})
    assert out.shape == (1, 2, 2, 2)
    np.testing.assert_allclose(out[0, 0], 21.0)
    np.testing.assert_allclose(out[0, 1], -1.0 + 1.0 + 3.0)


def test_conv_output_size_uses_floor_division(rng):
    x = rng.standard_normal((1, 1, 5, 6))
    w = rng.standard_normal((1, 1, 2, 2))
    out, cache = conv_forward_naive(x, w, np.zeros(1), {"stride": 2, "pad": 0})
    assert out.shape == (1, 1, 2, 3)          # 1 + (5 - 2) // 2 = 2 rows, the last one unused
    dx, _, _ = conv_backward_naive(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0, 4], 0)


@pytest.mark.parametrize("stride, pad", [(1, 1), (2, 1), (3, 0)])
def test_conv_gradients(rng, stride, pad):
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((3, 3, 3, 3))
    b = rng.standard_normal(3)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    num_dx = eval_numerical_gradient_array(lambda v: conv_forward_naive(v, w, b, conv_param)[0], x, dout)
    num_dw = eval_numerical_gradient_array(lambda v: conv_forward_naive(x, v, b, conv_param)[0], w, dout)
    num_db = eval_numerical_gradient_array(lambda v: conv_forward_naive(x, w, v, conv_param)[0], b, dout)
    assert rel_error(dx, num_dx) < 1e-7
    assert rel_error(dw, num_dw) < 1e-7
    assert rel_error(db, num_db) < 1e-7


def test_conv_keeps_float32(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    out, cache = conv_forward_naive(x, w, np.zeros(3, np.float32), {"stride": 1, "pad": 1})
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv_backward_naive(out, cache))


def test_conv_rejects_bad_input():
    x, w, b = np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.zeros(4)
    ok = {"stride": 1, "pad": 0}
    with pytest.raises(ValueError, match="w must have as many channels as x: x has C=3"):
        conv_forward_naive(x, np.ones((4, 2, 3, 3)), b, ok)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        conv_forward_naive(x, w, np.zeros(3), ok)
    with pytest.raises(ValueError, match=r"conv_param is missing key\(s\) \['pad'\]"):
        conv_forward_naive(x, w, b, {"stride": 1})
    with pytest.raises(ValueError, match="conv_param must be a dict, got tuple"):
        conv_forward_naive(x, w, b, (1, 0))
    with pytest.raises(ValueError, match="stride must be an integer >= 1, got 0"):
        conv_forward_naive(x, w, b, {"stride": 0, "pad": 1})
    with pytest.raises(ValueError, match="pad must be an integer >= 0, got -1"):
        conv_forward_naive(x, w, b, {"stride": 1, "pad": -1})
    with pytest.raises(ValueError, match="filter height 7 is larger than the padded input height"):
        conv_forward_naive(x, np.ones((4, 3, 7, 3)), b, {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        conv_forward_naive(x[0], w, b, ok)
    _, cache = conv_forward_naive(x, w, b, ok)
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 4, 3, 3\), got \(2, 4, 5, 5\)"):
        conv_backward_naive(np.ones((2, 4, 5, 5)), cache)


# ---------------------------------------------------------------- max pooling

POOL_2x2 = {"pool_height": 2, "pool_width": 2, "stride": 2}


def test_max_pool_by_hand():
    x = _image([[1, 2, 5, 0],
                [3, 4, 1, 1],
                [0, 0, 9, 8],
                [7, 0, 6, 7]])
    out, cache = max_pool_forward_naive(x, POOL_2x2)
    np.testing.assert_array_equal(out[0, 0], [[4, 5], [7, 9]])
    dx = max_pool_backward_naive(_image([[1, 2], [3, 4]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 2, 0],
                                             [0, 1, 0, 0],
                                             [0, 0, 4, 0],
                                             [3, 0, 0, 0]])


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = _image([[3, 3, 1, 1],
                [3, 3, 1, 1]])
    _, cache = max_pool_forward_naive(x, POOL_2x2)
    dx = max_pool_backward_naive(_image([[5, 6]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[5, 0, 6, 0], [0, 0, 0, 0]])


def test_max_pool_overlapping_windows_accumulate():
    x = _image([[0, 0, 0],
                [0, 9, 0],
                [0, 0, 0]])
    pool = {"pool_height": 2, "pool_width": 2, "stride": 1}
    out, cache = max_pool_forward_naive(x, pool)
    np.testing.assert_array_equal(out[0, 0], 9)
    dx = max_pool_backward_naive(_image([[1, 2], [3, 4]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_max_pool_rectangular_window_and_floor(rng):
    x = rng.standard_normal((2, 3, 5, 7))
    pool = {"pool_height": 2, "pool_width": 3, "stride": 2}
    out, _ = max_pool_forward_naive(x, pool)
    assert out.shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(out[:, :, 1, 2], x[:, :, 2:4, 4:7].max(axis=(2, 3)))


@pytest.mark.parametrize("pool", [POOL_2x2, {"pool_height": 3, "pool_width": 2, "stride": 1}])
def test_max_pool_gradient(rng, pool):
    x = rng.standard_normal((2, 3, 6, 5))
    out, cache = max_pool_forward_naive(x, pool)
    dout = rng.standard_normal(out.shape)
    num = eval_numerical_gradient_array(lambda v: max_pool_forward_naive(v, pool)[0], x, dout)
    assert rel_error(max_pool_backward_naive(dout, cache), num) < 1e-9


def test_max_pool_keeps_float32():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    out, cache = max_pool_forward_naive(x, POOL_2x2)
    assert out.dtype == np.float32 and max_pool_backward_naive(out, cache).dtype == np.float32


def test_max_pool_rejects_bad_input():
    x = np.ones((1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"pool_param is missing key\(s\) \['stride'\]"):
        max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2})
    with pytest.raises(ValueError, match="filter width 5 is larger than the padded input width 4"):
        max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 5, "stride": 1})
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 0})
    with pytest.raises(ValueError, match="x must have a floating-point dtype"):
        max_pool_forward_naive(x.astype(int), POOL_2x2)
    _, cache = max_pool_forward_naive(x, POOL_2x2)
    with pytest.raises(ValueError, match=r"dout must have shape \(1, 2, 2, 2\)"):
        max_pool_backward_naive(np.ones((1, 2, 4, 4)), cache)


# ---------------------------------------------------------------- PyTorch as an optional reference

def test_conv_and_pool_match_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((2, 3, 9, 8))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))

    out, cache = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    ref = F.conv2d(xt, wt, bt, stride=2, padding=1)
    dout = rng.standard_normal(out.shape)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), atol=1e-10)
    for mine, theirs in zip(conv_backward_naive(dout, cache), (xt, wt, bt)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), atol=1e-10)

    xt.grad = None
    pool = {"pool_height": 3, "pool_width": 2, "stride": 2}
    out, cache = max_pool_forward_naive(x, pool)
    ref = F.max_pool2d(xt, (3, 2), stride=2)
    dout = rng.standard_normal(out.shape)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy())
    np.testing.assert_allclose(max_pool_backward_naive(dout, cache), xt.grad.numpy(), atol=1e-12)
