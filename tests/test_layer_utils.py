"""Sandwich layers: same numbers as chaining the parts, and correct gradients."""
import numpy as np
import pytest

from course_utils.gradient_check import eval_numerical_gradient_array, rel_error
from course_utils.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from course_utils.layers import (
    affine_forward,
    batchnorm_forward,
    conv_forward_naive,
    layernorm_forward,
    max_pool_forward_naive,
    spatial_batchnorm_forward,
)

CONV = {"stride": 1, "pad": 1}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


@pytest.fixture
def rng():
    return np.random.default_rng(231)


def _relu(a):
    return np.maximum(a, 0)


def _check_grads(forward, backward, inputs, dout, tol=1e-7, zero=()):
    """backward(dout, cache) against numeric gradients of every input of forward.

    Inputs listed in ``zero`` have an exactly zero gradient (a bias followed by
    batch norm), where a relative error only measures rounding noise.
    """
    _, cache = forward(*inputs)
    grads = backward(dout, cache)
    assert len(grads) == len(inputs)
    for k, (analytic, value) in enumerate(zip(grads, inputs)):
        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return forward(*args)[0]
        assert analytic.shape == value.shape
        numeric = eval_numerical_gradient_array(f, value, dout)
        if k in zero:
            assert np.abs(analytic).max() < 1e-9 and np.abs(numeric).max() < 1e-9, f"input {k}"
        else:
            assert rel_error(analytic, numeric) < tol, f"input {k}"


def test_affine_relu(rng):
    x = rng.standard_normal((3, 2, 2))
    w = rng.standard_normal((4, 5))
    b = rng.standard_normal(5)
    out, cache = affine_relu_forward(x, w, b)
    np.testing.assert_allclose(out, _relu(affine_forward(x, w, b)[0]))
    assert len(cache) == 2 and cache[0][1] is w          # (affine cache, relu cache)
    _check_grads(affine_relu_forward, affine_relu_backward, (x, w, b), rng.standard_normal((3, 5)))


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_affine_norm_relu(rng, normalization):
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 5))
    b = rng.standard_normal(5)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    a = affine_forward(x, w, b)[0]
    if normalization == "batchnorm":
        a = batchnorm_forward(a, gamma, beta, {"mode": "train"})[0]
    else:
        a = layernorm_forward(a, gamma, beta, {})[0]
    out, _ = affine_norm_relu_forward(x, w, b, gamma, beta, {"mode": "train"}, normalization)
    np.testing.assert_allclose(out, _relu(a))

    def forward(x, w, b, gamma, beta):
        return affine_norm_relu_forward(x, w, b, gamma, beta, {"mode": "train"}, normalization)
    _check_grads(forward, affine_norm_relu_backward, (x, w, b, gamma, beta), rng.standard_normal((4, 5)),
                 zero=(2,) if normalization == "batchnorm" else ())


def test_affine_norm_relu_without_normalization_is_affine_relu(rng):
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    out, cache = affine_norm_relu_forward(x, w, b, None, None, None, None)
    ref_out, ref_cache = affine_relu_forward(x, w, b)
    np.testing.assert_array_equal(out, ref_out)
    dx, dw, db, dgamma, dbeta = affine_norm_relu_backward(dout, cache)
    assert dgamma is None and dbeta is None
    for mine, ref in zip((dx, dw, db), affine_relu_backward(dout, ref_cache)):
        np.testing.assert_array_equal(mine, ref)


def test_affine_norm_relu_updates_running_stats_and_rejects_unknown_normalization(rng):
    x = rng.standard_normal((6, 3))
    w, b, g = np.eye(3), np.zeros(3), np.ones(3)
    bn_param = {"mode": "train"}
    affine_norm_relu_forward(x, w, b, g, 0 * g, bn_param, "batchnorm")
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0))
    with pytest.raises(ValueError, match=r"normalization must be one of \(None, 'batchnorm', 'layernorm'\)"):
        affine_norm_relu_forward(x, w, b, g, g, bn_param, "groupnorm")


def test_conv_relu(rng):
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((2, 3, 3, 3))
    b = rng.standard_normal(2)
    out, cache = conv_relu_forward(x, w, b, CONV)
    np.testing.assert_allclose(out, _relu(conv_forward_naive(x, w, b, CONV)[0]), atol=1e-12)
    assert len(cache) == 2

    def forward(x, w, b):
        return conv_relu_forward(x, w, b, CONV)
    _check_grads(forward, conv_relu_backward, (x, w, b), rng.standard_normal(out.shape))


def test_conv_relu_pool(rng):
    x = rng.standard_normal((2, 3, 4, 4))
    w = rng.standard_normal((2, 3, 3, 3))
    b = rng.standard_normal(2)
    out, cache = conv_relu_pool_forward(x, w, b, CONV, POOL)
    expected = max_pool_forward_naive(_relu(conv_forward_naive(x, w, b, CONV)[0]), POOL)[0]
    np.testing.assert_allclose(out, expected, atol=1e-12)
    assert out.shape == (2, 2, 2, 2) and len(cache) == 3

    def forward(x, w, b):
        return conv_relu_pool_forward(x, w, b, CONV, POOL)
    _check_grads(forward, conv_relu_pool_backward, (x, w, b), rng.standard_normal(out.shape))


def test_conv_bn_relu(rng):
    x = rng.standard_normal((2, 3, 4, 4))
    w = rng.standard_normal((3, 3, 3, 3))
    b = rng.standard_normal(3)
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    bn_param = {"mode": "train"}
    out, cache = conv_bn_relu_forward(x, w, b, gamma, beta, CONV, bn_param)
    conv_out = conv_forward_naive(x, w, b, CONV)[0]
    expected = _relu(spatial_batchnorm_forward(conv_out, gamma, beta, {"mode": "train"})[0])
    np.testing.assert_allclose(out, expected, atol=1e-10)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * conv_out.mean(axis=(0, 2, 3)))
    assert len(cache) == 3

    def forward(x, w, b, gamma, beta):
        return conv_bn_relu_forward(x, w, b, gamma, beta, CONV, {"mode": "train"})
    _check_grads(forward, conv_bn_relu_backward, (x, w, b, gamma, beta), rng.standard_normal(out.shape),
                 tol=1e-6, zero=(2,))


def test_sandwiches_pass_on_validation_errors():
    x = np.ones((2, 3, 4, 4))
    with pytest.raises(ValueError, match="as many channels as x"):
        conv_relu_forward(x, np.ones((2, 4, 3, 3)), np.zeros(2), CONV)
    with pytest.raises(ValueError, match=r"w must have shape \(48, any\)"):
        affine_relu_forward(x, np.ones((12, 2)), np.zeros(2))
