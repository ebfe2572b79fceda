"""Batch norm, layer norm, spatial batch norm and group norm."""
import numpy as np
import pytest

from course_utils.gradient_check import eval_numerical_gradient_array, rel_error
from course_utils.layers import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)

EPS = 1e-5


@pytest.fixture
def rng():
    return np.random.default_rng(231)


def _frozen(bn_param):
    """A copy whose running statistics are copies too, for repeated forward calls."""
    param = dict(bn_param)
    for key in ("running_mean", "running_var"):
        if key in param:
            param[key] = param[key].copy()
    return param


def _check_grads(forward, backward, inputs, dout, tol):
    """Compare backward(dout, cache) with numeric gradients of every input."""
    _, cache = forward(*inputs)
    grads = backward(dout, cache)
    for k, (analytic, value) in enumerate(zip(grads, inputs)):
        def f(v, k=k):
            args = list(inputs)
            args[k] = v
            return forward(*args)[0]
        assert rel_error(analytic, eval_numerical_gradient_array(f, value, dout)) < tol, f"input {k}"


# ---------------------------------------------------------------- batch norm

def test_batchnorm_by_hand():
    # one feature, values 1 and 3: mean 2, variance 1
    x = np.array([[1.0], [3.0]])
    out, _ = batchnorm_forward(x, np.array([2.0]), np.array([0.5]), {"mode": "train"})
    s = 1 / np.sqrt(1 + EPS)
    np.testing.assert_allclose(out, [[0.5 - 2 * s], [0.5 + 2 * s]])


def test_batchnorm_train_standardises_then_scales_and_shifts(rng):
    x = 4 * rng.standard_normal((200, 3)) + np.array([10.0, -3.0, 0.5])
    D = x.shape[1]
    out, _ = batchnorm_forward(x, np.ones(D), np.zeros(D), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-5)
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([11.0, 12.0, 13.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma, atol=1e-5)


def test_batchnorm_running_stats_one_step_and_test_mode():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])   # means (3, 12), variances (8/3, 8)
    mean, var = np.array([3.0, 12.0]), np.array([8 / 3, 8.0])
    bn_param = {"mode": "train"}
    batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * mean)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * var)

    # given arrays are updated in place, with the chosen momentum
    running_mean, running_var = np.ones(2), np.ones(2)
    bn_param = {"mode": "train", "momentum": 0.5,
                "running_mean": running_mean, "running_var": running_var}
    batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
    assert bn_param["running_mean"] is running_mean
    np.testing.assert_allclose(running_mean, 0.5 + 0.5 * mean)
    np.testing.assert_allclose(running_var, 0.5 + 0.5 * var)

    # test mode standardises with the running statistics and leaves them alone
    bn_param["mode"] = "test"
    x_test = np.array([[0.5 + 0.5 * 3.0, 0.5 + 0.5 * 12.0 + np.sqrt(4.5 + EPS)]])
    out, _ = batchnorm_forward(x_test, np.array([2.0, 3.0]), np.array([1.0, -1.0]), bn_param)
    np.testing.assert_allclose(out, [[1.0, 2.0]])
    np.testing.assert_allclose(running_mean, 0.5 + 0.5 * mean)


def test_batchnorm_running_stats_converge(rng):
    bn_param = {"mode": "train"}
    gamma, beta = np.ones(3), np.zeros(3)
    for _ in range(60):
        batchnorm_forward(rng.normal(5.0, 2.0, size=(100, 3)), gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 5.0, atol=0.15)
    np.testing.assert_allclose(bn_param["running_var"], 4.0, atol=0.5)
    bn_param["mode"] = "test"
    out, _ = batchnorm_forward(rng.normal(5.0, 2.0, size=(500, 3)), gamma, beta, bn_param)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=0.2)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=0.2)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_batchnorm_gradients(rng, mode, backward):
    N, D = 4, 5
    x = 5 * rng.standard_normal((N, D)) + 12
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    bn_param = {"mode": mode, "running_mean": rng.standard_normal(D), "running_var": rng.random(D) + 0.5}

    def forward(x, gamma, beta):
        return batchnorm_forward(x, gamma, beta, _frozen(bn_param))
    _check_grads(forward, backward, (x, gamma, beta), dout, 1e-7)


@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_backward_alt_matches_graph_version(rng, mode):
    x = 3 * rng.standard_normal((50, 20)) - 2
    gamma, beta = rng.standard_normal(20), rng.standard_normal(20)
    bn_param = {"mode": "train"}
    batchnorm_forward(x, gamma, beta, bn_param)
    bn_param["mode"] = mode
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    dout = rng.standard_normal(x.shape)
    for a, b in zip(batchnorm_backward(dout, cache), batchnorm_backward_alt(dout, cache)):
        assert rel_error(a, b) < 1e-10


def test_batchnorm_rejects_bad_input():
    x, g = np.ones((4, 3)), np.ones(3)
    with pytest.raises(ValueError, match=r"bn_param is missing key\(s\) \['mode'\]"):
        batchnorm_forward(x, g, g, {})
    with pytest.raises(ValueError, match="bn_param must be a dict, got NoneType"):
        batchnorm_forward(x, g, g, None)
    with pytest.raises(ValueError, match=r"bn_param\['mode'\] must be 'train' or 'test', got 'eval'"):
        batchnorm_forward(x, g, g, {"mode": "eval"})
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got \(4,\)"):
        batchnorm_forward(x, np.ones(4), g, {"mode": "train"})
    with pytest.raises(ValueError, match=r"beta must have shape \(3,\)"):
        batchnorm_forward(x, g, np.ones((1, 3)), {"mode": "train"})
    with pytest.raises(ValueError, match=r"x must have 2 dimensions, got shape \(4, 3, 1\)"):
        batchnorm_forward(x[..., None], g, g, {"mode": "train"})
    with pytest.raises(ValueError, match=r"running_mean'\] must have shape \(3,\), got \(2,\)"):
        batchnorm_forward(x, g, g, {"mode": "test", "running_mean": np.zeros(2)})
    with pytest.raises(ValueError, match=r"momentum'\] must be a number in \[0, 1\]"):
        batchnorm_forward(x, g, g, {"mode": "train", "momentum": 1.5})
    with pytest.raises(ValueError, match=r"eps'\] must be a positive number"):
        batchnorm_forward(x, g, g, {"mode": "train", "eps": 0})
    _, cache = batchnorm_forward(x, g, g, {"mode": "train"})
    for backward in (batchnorm_backward, batchnorm_backward_alt):  # the cache's layout is the student's:
        with pytest.raises(ValueError, match=r"dout must have 2 dimensions"):  # only dout itself is checked
            backward(np.ones(3), cache)


def test_batchnorm_keeps_float32():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    g = np.ones(3, dtype=np.float32)
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, g, g, bn_param)
    assert out.dtype == np.float32 and bn_param["running_mean"].dtype == np.float32
    assert all(d.dtype == np.float32 for d in batchnorm_backward_alt(out, cache))


# ---------------------------------------------------------------- layer norm

def test_layernorm_by_hand():
    x = np.array([[1.0, 3.0], [10.0, 10.0]])   # second row: zero variance, so xhat = 0
    out, _ = layernorm_forward(x, np.array([2.0, 3.0]), np.array([0.5, -1.0]), {})
    s = 1 / np.sqrt(1 + EPS)
    np.testing.assert_allclose(out, [[0.5 - 2 * s, -1 + 3 * s], [0.5, -1.0]])


def test_layernorm_normalises_each_example_on_its_own(rng):
    x = 3 * rng.standard_normal((4, 50)) + rng.standard_normal((4, 1)) * 10
    D = x.shape[1]
    out, _ = layernorm_forward(x, np.ones(D), np.zeros(D), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, atol=1e-5)
    first, _ = layernorm_forward(x[:1], np.ones(D), np.zeros(D), {})
    np.testing.assert_allclose(first, out[:1])
    centred = x - x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(out, centred / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5), atol=1e-12)


def test_layernorm_gradients(rng):
    N, D = 4, 5
    x = 5 * rng.standard_normal((N, D)) + 12
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    forward = lambda x, gamma, beta: layernorm_forward(x, gamma, beta, {"eps": 1e-5})  # noqa: E731
    _check_grads(forward, layernorm_backward, (x, gamma, beta), dout, 1e-7)


def test_layernorm_rejects_bad_input():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        layernorm_forward(x, np.ones(4), np.ones(3), {})
    with pytest.raises(ValueError, match=r"ln_param must be a dict"):
        layernorm_forward(x, np.ones(3), np.ones(3), None)
    with pytest.raises(ValueError, match=r"ln_param\['eps'\] must be a positive number, got -1"):
        layernorm_forward(x, np.ones(3), np.ones(3), {"eps": -1})


# ---------------------------------------------------------------- spatial batch norm

def test_spatial_batchnorm_statistics_per_channel(rng):
    N, C, H, W = 10, 3, 4, 5
    x = 4 * rng.standard_normal((N, C, H, W)) + np.array([1.0, -5.0, 9.0])[:, None, None]
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 4.0])
    bn_param = {"mode": "train"}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), gamma, atol=1e-5)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=(0, 2, 3)))
    # test mode with those running statistics
    bn_param["mode"] = "test"
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    expected = (x - bn_param["running_mean"][:, None, None]) / np.sqrt(
        bn_param["running_var"][:, None, None] + EPS)
    np.testing.assert_allclose(out, gamma[:, None, None] * expected + beta[:, None, None])


def test_spatial_batchnorm_gradients(rng):
    N, C, H, W = 2, 3, 3, 2
    x = 3 * rng.standard_normal((N, C, H, W)) + 2
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    dout = rng.standard_normal(x.shape)
    forward = lambda x, gamma, beta: spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})  # noqa: E731
    _check_grads(forward, spatial_batchnorm_backward, (x, gamma, beta), dout, 1e-7)


def test_spatial_batchnorm_rejects_bad_input():
    x = np.ones((2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got shape \(1, 3, 1, 1\)"):
        spatial_batchnorm_forward(x, np.ones((1, 3, 1, 1)), np.ones(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"x must have 4 dimensions"):
        spatial_batchnorm_forward(np.ones((2, 3)), np.ones(3), np.ones(3), {"mode": "train"})
    _, cache = spatial_batchnorm_forward(x, np.ones(3), np.ones(3), {"mode": "train"})
    with pytest.raises(ValueError, match="dout must have 4 dimensions"):
        spatial_batchnorm_backward(np.ones((2, 4, 4)), cache)


# ---------------------------------------------------------------- group norm

def _groupnorm_reference(x, gamma, beta, G, eps=EPS):
    """Straightforward loops over examples and groups."""
    N, C, H, W = x.shape
    out = np.empty_like(x)
    size = C // G
    for n in range(N):
        for g in range(G):
            chunk = x[n, g * size:(g + 1) * size]
            out[n, g * size:(g + 1) * size] = (chunk - chunk.mean()) / np.sqrt(chunk.var() + eps)
    return gamma * out + beta


@pytest.mark.parametrize("G", [1, 2, 6])
def test_groupnorm_matches_reference(rng, G):
    N, C, H, W = 3, 6, 4, 5
    x = 4 * rng.standard_normal((N, C, H, W)) + 7
    gamma = rng.standard_normal((1, C, 1, 1))
    beta = rng.standard_normal((1, C, 1, 1))
    out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {})
    np.testing.assert_allclose(out, _groupnorm_reference(x, gamma, beta, G), rtol=1e-10, atol=1e-12)


def test_groupnorm_by_hand():
    # one image, 2 channels, 1x2 pixels, one group: values 0, 2, 4, 6 -> mean 3, var 5
    x = np.array([[[[0.0, 2.0]], [[4.0, 6.0]]]])
    ones, zeros = np.ones((1, 2, 1, 1)), np.zeros((1, 2, 1, 1))
    out, _ = spatial_groupnorm_forward(x, ones, zeros, 1, {})
    np.testing.assert_allclose(out.ravel(), np.array([-3, -1, 1, 3]) / np.sqrt(5 + EPS))


def test_groupnorm_gradients(rng):
    N, C, H, W, G = 2, 4, 3, 2, 2
    x = 3 * rng.standard_normal((N, C, H, W)) + 1
    gamma = rng.standard_normal((1, C, 1, 1))
    beta = rng.standard_normal((1, C, 1, 1))
    dout = rng.standard_normal(x.shape)
    forward = lambda x, gamma, beta: spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-5})  # noqa: E731
    _check_grads(forward, spatial_groupnorm_backward, (x, gamma, beta), dout, 1e-7)
    _, cache = forward(x, gamma, beta)
    _, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
    assert dgamma.shape == dbeta.shape == (1, C, 1, 1)


def test_groupnorm_rejects_bad_input():
    x = np.ones((2, 6, 3, 3))
    g = np.ones((1, 6, 1, 1))
    with pytest.raises(ValueError, match="G must divide the number of channels: C=6 is not a multiple of G=4"):
        spatial_groupnorm_forward(x, g, g, 4, {})
    with pytest.raises(ValueError, match="G must be an integer >= 1, got 0"):
        spatial_groupnorm_forward(x, g, g, 0, {})
    with pytest.raises(ValueError, match=r"gamma must have shape \(1, 6, 1, 1\), got shape \(6,\)"):
        spatial_groupnorm_forward(x, np.ones(6), g, 2, {})
    with pytest.raises(ValueError, match="gn_param must be a dict"):
        spatial_groupnorm_forward(x, g, g, 2, None)
    _, cache = spatial_groupnorm_forward(x, g, g, 2, {})
    with pytest.raises(ValueError, match=r"dout must have 4 dimensions"):
        spatial_groupnorm_backward(np.ones((2, 6, 3)), cache)


# ---------------------------------------------------------------- PyTorch as an optional reference

def test_norm_layers_match_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = 3 * rng.standard_normal((4, 6, 3, 5)) + 1
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    xt = torch.tensor(x, requires_grad=True)
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    dout = rng.standard_normal(x.shape)

    out, cache = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    ref = F.batch_norm(xt, None, None, gt, bt, training=True, eps=EPS)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), atol=1e-10)
    for mine, theirs in zip(spatial_batchnorm_backward(dout, cache), (xt, gt, bt)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), atol=1e-10)

    xt.grad = gt.grad = bt.grad = None
    out, cache = spatial_groupnorm_forward(x, gamma.reshape(1, 6, 1, 1), beta.reshape(1, 6, 1, 1), 3, {})
    ref = F.group_norm(xt, 3, gt, bt, eps=EPS)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), atol=1e-10)
    for mine, theirs in zip(spatial_groupnorm_backward(dout, cache), (xt, gt, bt)):
        np.testing.assert_allclose(mine.reshape(theirs.shape), theirs.grad.numpy(), atol=1e-10)

    x2 = x.reshape(4, -1)
    out, cache = layernorm_forward(x2, gamma.repeat(15), beta.repeat(15), {})
    x2t = torch.tensor(x2, requires_grad=True)
    ref = F.layer_norm(x2t, (90,), torch.tensor(gamma.repeat(15)), torch.tensor(beta.repeat(15)), eps=EPS)
    ref.backward(torch.tensor(dout.reshape(4, -1)))
    np.testing.assert_allclose(out, ref.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(layernorm_backward(dout.reshape(4, -1), cache)[0], x2t.grad.numpy(), atol=1e-10)


# ---------------------------------------------------------------- integer and list scale/shift

def _norm_calls(x4):
    """(name, forward(gamma, beta), shape of gamma) for the four normalisation layers."""
    x2 = x4.reshape(x4.shape[0], -1)[:, :3]
    return [
        ("batchnorm", lambda g, b: batchnorm_forward(x2, g, b, {"mode": "train"})[0], (3,)),
        ("layernorm", lambda g, b: layernorm_forward(x2, g, b, {})[0], (3,)),
        ("spatial_batchnorm", lambda g, b: spatial_batchnorm_forward(x4, g, b, {"mode": "train"})[0], (3,)),
        ("groupnorm", lambda g, b: spatial_groupnorm_forward(x4, g, b, 3, {})[0], (1, 3, 1, 1)),
    ]


@pytest.mark.parametrize("index", range(4))
def test_integer_and_list_gamma_beta_are_converted(rng, index):
    """CS231n's checks pass gamma = np.asarray([3, 4, 5]) (ints): same result as floats."""
    x = 2 * rng.standard_normal((4, 3, 2, 2)) + 1
    name, forward, shape = _norm_calls(x)[index]
    gamma_f, beta_f = np.array([3.0, 4.0, 5.0]).reshape(shape), np.array([6.0, 7.0, 8.0]).reshape(shape)
    expected = forward(gamma_f, beta_f)
    assert expected.dtype == np.float64
    for gamma, beta in [(gamma_f.astype(int), beta_f.astype(np.int32)), (gamma_f.tolist(), beta_f.tolist())]:
        out = forward(gamma, beta)
        assert out.dtype == np.float64, name
        np.testing.assert_array_equal(out, expected)


def test_spatial_batchnorm_integer_gamma_fixed_values():
    # channel c of x holds c * [-1, 1] over the batch: mean 0, variance c^2
    x = np.zeros((2, 3, 1, 1))
    x[:, :, 0, 0] = np.array([[-1.0], [1.0]]) * np.array([1.0, 2.0, 3.0])
    out, _ = spatial_batchnorm_forward(x, np.asarray([3, 4, 5]), np.asarray([6, 7, 8]), {"mode": "train"})
    np.testing.assert_allclose(out[:, :, 0, 0], [[3.0, 3.0, 3.0], [9.0, 11.0, 13.0]], atol=1e-4)


def test_float32_layers_keep_float32_with_integer_gamma():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    out, _ = batchnorm_forward(x, np.array([1, 2, 3]), [0, 0, 0], {"mode": "train"})
    assert out.dtype == np.float32


def test_invalid_gamma_beta_still_raise():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="gamma must be a numpy array of real numbers .* got str"):
        batchnorm_forward(x, "abc", np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match="beta must be a numpy array of real numbers .* dtype bool"):
        layernorm_forward(x, np.ones(3), np.array([True, False, True]), {})
    with pytest.raises(ValueError, match="gamma must be a numpy array of real numbers .* ragged"):
        batchnorm_forward(x, [[1, 2], [3]], np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\), got \(2,\)"):
        batchnorm_forward(x, [1, 2], np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"gamma must have shape \(1, 3, 1, 1\), got shape \(3,\)"):
        spatial_groupnorm_forward(np.ones((2, 3, 2, 2)), [1, 2, 3], np.zeros((1, 3, 1, 1)), 3, {})
