"""Neural-network layers as forward/backward pairs.

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes
the upstream gradient ``dout`` (shaped like ``out``) and that cache, and returns
the gradients of the forward's inputs in the same order. Losses return
``(loss, dx)`` directly. Nothing mutates its inputs, except that batch norm
keeps its running statistics in ``bn_param``.

Input checks live outside the student regions, so a mistake in how a layer is
called surfaces as a ``ValueError`` that names the expected shape or key. The
normalisation layers accept ``gamma`` / ``beta`` as integer arrays or lists too
(CS231n's checks pass ``np.asarray([3, 4, 5])``): they are converted to x's dtype.
"""
import numpy as np

from course_utils.checks import (
    as_float_array,
    check_array,
    check_dout,
    check_keys,
    check_labels,
    check_positive_int,
    implemented,
)
from course_utils.conv_shapes import conv_geometry, pool_geometry

__all__ = [
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "svm_loss", "softmax_loss",
    "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
    "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "spatial_groupnorm_forward", "spatial_groupnorm_backward",
]  # the layers; the classifier modules re-export them (see classifiers/fc_net.py)

_MODES = ("train", "test")


# ----------------------------------------------------------------------------
# Validation helpers (not part of the exercises)
# ----------------------------------------------------------------------------

def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_mode(param, name):
    mode = param["mode"]
    if mode not in _MODES:
        raise ValueError(f"{name}['mode'] must be 'train' or 'test', got {mode!r}")
    return mode


def _check_eps(param, name):
    eps = param.get("eps", 1e-5)
    if not _is_number(eps) or not eps > 0:
        raise ValueError(f"{name}['eps'] must be a positive number, got {eps!r}")
    return float(eps)


def _check_scale_shift(gamma, beta, shape, dtype):
    """-> (gamma, beta) of ``shape``; integer arrays and lists are converted to ``dtype``."""
    gamma = as_float_array(gamma, "gamma", dtype)
    beta = as_float_array(beta, "beta", dtype)
    check_array(gamma, "gamma", ndim=len(shape), shape=shape)
    check_array(beta, "beta", ndim=len(shape), shape=shape)
    return gamma, beta


# ----------------------------------------------------------------------------
# Affine and ReLU
# ----------------------------------------------------------------------------

def affine_forward(x, w, b):
    """Fully connected layer: out = x_flat @ w + b.

    x: (N, d_1, ..., d_k), each example flattened to D = d_1 * ... * d_k values
    w: (D, M)
    b: (M,)
    Returns out (N, M) and cache (x, w, b).
    """
    check_array(x, "x", floating=True)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, d_1, ..., d_k) with k >= 1, got {x.shape}")
    D = int(np.prod(x.shape[1:]))
    check_array(w, "w", ndim=2, shape=(D, None), floating=True)
    check_array(b, "b", ndim=1, shape=(w.shape[1],), floating=True)
    out = None
    # TODO: flatten every example of x into a row of length D, multiply by w
    # and add the bias.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    out = x.reshape(x.shape[0], D) @ w + b
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b)
    return implemented(out, "affine_forward"), cache


def affine_backward(dout, cache):
    """Backward pass of the fully connected layer.

    dout: (N, M); cache: (x, w, b) from affine_forward.
    Returns dx (shape of x), dw (D, M), db (M,).
    """
    x, w, b = cache
    check_dout(dout, (x.shape[0], w.shape[1]))
    dx, dw, db = None, None, None
    # TODO: out = x_flat @ w + b, so dx_flat = dout @ w.T (reshaped back to x's
    # shape), dw = x_flat.T @ dout and db sums dout over the batch.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    x_flat = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_flat.T @ dout
    db = dout.sum(axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "affine_backward"), dw, db


def relu_forward(x):
    """Rectified linear unit, elementwise max(0, x).

    x: any shape. Returns out (x's shape) and cache x.
    """
    check_array(x, "x", floating=True)
    out = None
    # TODO: keep the positive entries of x and set the others to zero.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    out = np.maximum(x, 0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = x
    return implemented(out, "relu_forward"), cache


def relu_backward(dout, cache):
    """Backward pass of the ReLU: the gradient flows only where x > 0.

    dout: x's shape; cache: x. Returns dx.
    """
    x = cache
    check_dout(dout, x.shape)
    dx = None
    # TODO: pass dout through where the input was positive, zero elsewhere.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    dx = dout * (x > 0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "relu_backward")


# ----------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------

def _check_scores(x, y):
    check_array(x, "x", ndim=2, floating=True)
    check_labels(y, "y", x.shape[0], num_classes=x.shape[1])


def svm_loss(x, y):
    """Multiclass hinge loss with margin 1, averaged over the batch.

    x: (N, C) class scores; y: (N,) integer labels in [0, C).
    Returns loss (float) and dx (N, C).
    """
    _check_scores(x, y)
    loss, dx = 0.0, None
    # TODO: for each example, sum max(0, s_j - s_y + 1) over the wrong classes
    # j; average over N. Each positive margin adds +1 to its class's gradient
    # and -1 to the correct class's gradient (then divide by N).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = float(margins.sum() / N)
    dx = (margins > 0).astype(x.dtype)
    dx[rows, y] -= dx.sum(axis=1)
    dx /= N
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, implemented(dx, "svm_loss")


def softmax_loss(x, y):
    """Cross-entropy of the softmax of the scores, averaged over the batch.

    x: (N, C) class scores; y: (N,) integer labels in [0, C).
    Returns loss (float) and dx (N, C). Both must stay finite for any finite scores, even
    very large ones (a separate stability check uses scores of 1000): work with
    log p_y = s_y - max(s) - log(sum(exp(s - max(s)))), not log(p_y), which underflows to
    log(0) when p_y is tiny.
    """
    _check_scores(x, y)
    loss, dx = 0.0, None
    # TODO: subtract each row's maximum before exponentiating (it changes
    # nothing mathematically but avoids overflow), take the mean of -log p_y,
    # and use dL/ds = (p - one_hot(y)) / N.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = x.shape[0]
    rows = np.arange(N)
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probs[rows, y].mean())
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    dx /= N
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss, implemented(dx, "softmax_loss")


# ----------------------------------------------------------------------------
# Normalisation: batch norm, layer norm and the shared standardisation step
# ----------------------------------------------------------------------------

def _standardize(x, axis, eps):
    """Shift and scale x along ``axis`` to zero mean and unit variance.

    The step batch norm and layer norm have in common: batch norm
    standardises each feature over the batch (axis=0), layer norm each example
    over its features (axis=1).
    x: (N, D). Returns xhat (N, D), mean and var, both keeping ``axis`` as a
    size-1 axis ((1, D) for axis=0, (N, 1) for axis=1), where
    xhat = (x - mean) / sqrt(var + eps) and var is the biased variance.
    """
    xhat, mean, var = None, None, None
    # TODO: compute the mean and the (biased, divide by the count) variance of
    # x along `axis` with keepdims=True, then xhat.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)
    xhat = (x - mean) / np.sqrt(var + eps)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(xhat, "_standardize"), mean, var


def _standardize_backward(dxhat, xhat, std, axis):
    """Gradient through ``_standardize`` in closed form.

    dxhat, xhat: (N, D); std = sqrt(var + eps) with ``axis`` kept as size 1.
    Following dxhat back through xhat, the variance and the mean (each of
    them depends on every x along ``axis``) and adding the paths up gives
    dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std,
    the means taken along ``axis``. Returns dx (N, D).
    """
    dx = None
    # TODO: implement the formula above (one line with keepdims=True means).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    dx = (dxhat - dxhat.mean(axis=axis, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)) / std
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "_standardize_backward")


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation of each feature, then a learned scale and shift.

    x: (N, D); gamma, beta: (D,).
    bn_param: dict with
      - mode: 'train' or 'test' (required)
      - eps: added to the variance for stability (default 1e-5)
      - momentum: decay of the running statistics (default 0.9)
      - running_mean, running_var: (D,) arrays, created as zeros if absent.
    In train mode x is standardised with the batch mean and variance, and the
    running statistics are updated in place:
    running = momentum * running + (1 - momentum) * batch statistic.
    In test mode x is standardised with the running statistics instead.
    Returns out (N, D) and a cache for batchnorm_backward.
    """
    check_array(x, "x", ndim=2, floating=True)
    D = x.shape[1]
    gamma, beta = _check_scale_shift(gamma, beta, (D,), x.dtype)
    check_keys(bn_param, "bn_param", ["mode"])
    mode = _check_mode(bn_param, "bn_param")
    eps = _check_eps(bn_param, "bn_param")
    momentum = bn_param.get("momentum", 0.9)
    if not _is_number(momentum) or not 0 <= momentum <= 1:
        raise ValueError(f"bn_param['momentum'] must be a number in [0, 1], got {momentum!r}")
    running_mean = bn_param.setdefault("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.setdefault("running_var", np.zeros(D, dtype=x.dtype))
    check_array(running_mean, "bn_param['running_mean']", ndim=1, shape=(D,), floating=True)
    check_array(running_var, "bn_param['running_var']", ndim=1, shape=(D,), floating=True)

    out, cache = None, None
    # TODO: in train mode, standardise x with _standardize(x, 0, eps), scale
    # by gamma and shift by beta, and update running_mean and running_var in
    # place (e.g. running_mean[:] = ...). In test mode use the running
    # statistics instead of the batch ones. Store in the cache what
    # batchnorm_backward needs: here (mode, xhat, x - mean, std, gamma) with
    # std = sqrt(var + eps).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    if mode == "train":
        xhat, mean, var = _standardize(x, 0, eps)
        std = np.sqrt(var + eps)
        running_mean[:] = momentum * running_mean + (1 - momentum) * mean.ravel()
        running_var[:] = momentum * running_var + (1 - momentum) * var.ravel()
    else:
        mean, std = running_mean, np.sqrt(running_var + eps)
        xhat = (x - mean) / std
    out = gamma * xhat + beta
    cache = (mode, xhat, x - mean, std, gamma)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(out, "batchnorm_forward"), cache


def batchnorm_backward(dout, cache):
    """Backward pass of batch norm, one node of the computation graph at a time.

    Forward graph (train mode): mean = sum(x)/N; xc = x - mean;
    var = sum(xc**2)/N; std = sqrt(var + eps); xhat = xc / std;
    out = gamma * xhat + beta. Walk it backwards, node by node.
    In test mode mean and std are constants, so only the last two nodes matter.
    dout: (N, D). Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    check_array(dout, "dout", ndim=2, floating=True)  # the cache is yours: its layout is not checked here
    dx, dgamma, dbeta = None, None, None
    # TODO: backpropagate through out = gamma * xhat + beta, then through
    # xhat = xc / std (xc reaches xhat directly and through std), std, var,
    # xc = x - mean and mean, adding up the gradients of every path.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    mode, xhat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dxc = dxhat / std                                   # path xc -> xhat
    if mode == "train":
        dstd = -(dxhat * xc).sum(axis=0) / std**2       # xhat = xc * (1/std)
        dvar = dstd / (2 * std)                         # std = sqrt(var + eps)
        dxc = dxc + 2 * xc * dvar / N                   # var = sum(xc**2) / N
        dmean = -dxc.sum(axis=0)                        # xc = x - mean
        dx = dxc + dmean / N                            # mean = sum(x) / N
    else:
        dx = dxc
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "batchnorm_backward"), dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch norm with the simplified closed-form gradient.

    Same inputs and results as batchnorm_backward; in train mode dx comes from
    _standardize_backward along axis 0.
    """
    check_array(dout, "dout", ndim=2, floating=True)  # the cache is yours: its layout is not checked here
    dx, dgamma, dbeta = None, None, None
    # TODO: dgamma and dbeta as before; dx in one step from dxhat = dout * gamma
    # (in test mode the statistics are constants: dx = dxhat / std).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    mode, xhat, _, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    if mode == "train":
        dx = _standardize_backward(dxhat, xhat, std, axis=0)
    else:
        dx = dxhat / std
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "batchnorm_backward_alt"), dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalisation: standardise each example over its features.

    Unlike batch norm it uses no batch statistics, so train and test behave
    the same and nothing is tracked between calls.
    x: (N, D); gamma, beta: (D,); ln_param: dict with optional eps (1e-5);
    other keys (e.g. a 'mode') are ignored.
    Returns out (N, D) and a cache for layernorm_backward.
    """
    check_array(x, "x", ndim=2, floating=True)
    gamma, beta = _check_scale_shift(gamma, beta, (x.shape[1],), x.dtype)
    check_keys(ln_param, "ln_param")
    eps = _check_eps(ln_param, "ln_param")
    out, cache = None, None
    # TODO: the batch norm train-mode computation along the other axis:
    # _standardize(x, 1, eps), then scale and shift per feature. Cache
    # (xhat, std, gamma) with std = sqrt(var + eps).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    xhat, _, var = _standardize(x, 1, eps)
    out = gamma * xhat + beta
    cache = (xhat, np.sqrt(var + eps), gamma)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(out, "layernorm_forward"), cache


def layernorm_backward(dout, cache):
    """Backward pass of layer norm.

    dout: (N, D). Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    check_array(dout, "dout", ndim=2, floating=True)  # the cache is yours: its layout is not checked here
    dx, dgamma, dbeta = None, None, None
    # TODO: like batchnorm_backward_alt, with the standardisation along axis 1.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    xhat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = _standardize_backward(dout * gamma, xhat, std, axis=1)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "layernorm_backward"), dgamma, dbeta


# ----------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------

def dropout_forward(x, dropout_param):
    """Inverted dropout.

    x: any shape.
    dropout_param: dict with
      - p: probability of KEEPING each unit, in (0, 1] (required)
      - mode: 'train' or 'test' (required)
      - seed: optional; the same seed gives the same mask.
    In train mode each unit is kept with probability p and the kept ones are
    divided by p, so the expected output equals x and test mode is the
    identity. Returns out (x's shape) and cache (a copy of dropout_param,
    mask); the mask is None in test mode.
    """
    check_array(x, "x", floating=True)
    check_keys(dropout_param, "dropout_param", ["p", "mode"])
    mode = _check_mode(dropout_param, "dropout_param")
    p = dropout_param["p"]
    if not _is_number(p) or not 0 < p <= 1:
        raise ValueError(
            "dropout_param['p'] is the probability of keeping a unit and must be "
            f"in (0, 1], got {p!r}"
        )
    p = float(p)
    seed = dropout_param.get("seed")
    rng = np.random.default_rng(seed)

    out, mask = None, None
    # TODO: in train mode draw a mask that is 1/p with probability p and 0
    # otherwise (use rng.random, and keep x's dtype), and multiply x by it.
    # In test mode return x unchanged.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    if mode == "train":
        mask = (rng.random(x.shape) < p).astype(x.dtype) / p
        out = x * mask
    else:
        out = x
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (dict(dropout_param), mask)
    return implemented(out, "dropout_forward"), cache


def dropout_backward(dout, cache):
    """Backward pass of inverted dropout.

    dout: x's shape; cache: (dropout_param, mask). Returns dx.
    """
    dropout_param, mask = cache
    mode = _check_mode(dropout_param, "dropout_param")
    if mask is not None:
        check_dout(dout, mask.shape)
    else:
        check_array(dout, "dout", floating=True)
    dx = None
    # TODO: in train mode the gradient is masked and scaled exactly like the
    # forward values; in test mode it passes through.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    if mode == "train":
        dx = dout * mask
    else:
        dx = dout
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "dropout_backward")


# ----------------------------------------------------------------------------
# Convolution and max pooling (naive versions: loops straight from the definitions)
# ----------------------------------------------------------------------------

def conv_forward_naive(x, w, b, conv_param):
    """Convolution (cross-correlation, as in every deep learning library).

    x: (N, C, H, W); w: (F, C, HH, WW); b: (F,).
    conv_param: dict with 'stride' (>= 1) and 'pad' (zeros added on every side).
    out[n, f, i, j] = sum over c, u, v of
        x_pad[n, c, i*stride + u, j*stride + v] * w[f, c, u, v]  + b[f]
    Returns out (N, F, H', W') with H' = 1 + (H + 2*pad - HH) // stride (same
    for W'), and cache (x, w, b, conv_param).
    """
    stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    out = None
    # TODO: zero-pad x (np.pad) on the two spatial axes, then compute every
    # output value straight from the formula above: loop over images n,
    # filters f and output positions (i, j), multiply the filter with the
    # window under it and sum. Loops are fine here; the fast layers come later.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2], w.shape[3]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, w, b, conv_param)
    return implemented(out, "conv_forward_naive"), cache


def conv_backward_naive(dout, cache):
    """Backward pass of conv_forward_naive.

    dout: (N, F, H', W'). Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,).
    """
    x, w, b, conv_param = cache
    stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    check_dout(dout, (x.shape[0], w.shape[0], H_out, W_out))
    dx, dw, db = None, None, None
    # TODO: revisit every (n, f, i, j) of the forward pass. Its upstream value
    # dout[n, f, i, j] adds that value times the window to dw[f], and that
    # value times the filter w[f] to the gradient of the padded input window.
    # Crop the padding off at the end; db sums dout over all but the filter axis.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, F = x.shape[0], w.shape[0]
    H, W = x.shape[2], x.shape[3]
    HH, WW = w.shape[2], w.shape[3]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    db = dout.sum(axis=(0, 2, 3))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "conv_backward_naive"), dw, db


def max_pool_forward_naive(x, pool_param):
    """Max pooling over (pool_height, pool_width) windows, no padding.

    x: (N, C, H, W); pool_param: dict with 'pool_height', 'pool_width', 'stride'.
    Returns out (N, C, H', W') with H' = 1 + (H - pool_height) // stride (same
    for W'), and cache (x, pool_param).
    """
    ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    out = None
    # TODO: loop over the output positions and take the maximum of each
    # window over its two spatial axes, for all images and channels at once.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C = x.shape[:2]
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = window.max(axis=(2, 3))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    cache = (x, pool_param)
    return implemented(out, "max_pool_forward_naive"), cache


def max_pool_backward_naive(dout, cache):
    """Backward pass of max pooling.

    Each window sends its upstream gradient to the position of its maximum
    (the first one in row-major order if several entries tie).
    dout: (N, C, H', W'). Returns dx (N, C, H, W).
    """
    x, pool_param = cache
    ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    check_dout(dout, x.shape[:2] + (H_out, W_out))
    dx = None
    # TODO: for each output position, find the argmax of every flattened
    # window (np.argmax returns the first maximum) and add dout there;
    # windows may overlap when stride < pool size, so accumulate with +=.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C = x.shape[:2]
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + ph)
            cols = slice(j * stride, j * stride + pw)
            window = x[:, :, rows, cols].reshape(N, C, ph * pw)
            first_max = window.argmax(axis=2)[:, :, None]
            grad = np.zeros_like(window)
            np.put_along_axis(grad, first_max, dout[:, :, i, j, None], axis=2)
            dx[:, :, rows, cols] += grad.reshape(N, C, ph, pw)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "max_pool_backward_naive")


# ----------------------------------------------------------------------------
# Normalisation for images: spatial batch norm and group norm
# ----------------------------------------------------------------------------

def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch norm for images: one mean/variance per channel over N, H and W.

    x: (N, C, H, W); gamma, beta: (C,); bn_param as for batchnorm_forward
    (running statistics of shape (C,)). Returns out (N, C, H, W) and cache.
    """
    check_array(x, "x", ndim=4, floating=True)
    gamma, beta = _check_scale_shift(gamma, beta, (x.shape[1],), x.dtype)
    out, cache = None, None
    # TODO: move the channel axis last and flatten to (N*H*W, C), so each
    # channel is a feature and every pixel an example; call batchnorm_forward
    # and undo the reshape.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C, H, W = x.shape
    x_rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = batchnorm_forward(x_rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(out, "spatial_batchnorm_forward"), cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch norm.

    dout: (N, C, H, W). Returns dx (N, C, H, W), dgamma (C,), dbeta (C,).
    """
    check_array(dout, "dout", ndim=4, floating=True)  # the cache is yours: its layout is not checked here
    dx, dgamma, dbeta = None, None, None
    # TODO: the same reshape as the forward pass around batchnorm_backward_alt.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C, H, W = dout.shape
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout_rows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "spatial_batchnorm_backward"), dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Group normalisation: each example's channels split into G groups of C/G.

    Every (example, group) pair is standardised over its C/G channels and all
    pixels, then each channel gets its own scale and shift.
    x: (N, C, H, W); gamma, beta: (1, C, 1, 1); G: number of groups, must
    divide C; gn_param: dict with optional eps (1e-5).
    Returns out (N, C, H, W) and cache.
    """
    check_array(x, "x", ndim=4, floating=True)
    C = x.shape[1]
    gamma, beta = _check_scale_shift(gamma, beta, (1, C, 1, 1), x.dtype)
    G = check_positive_int(G, "G")
    if C % G:
        raise ValueError(f"G must divide the number of channels: C={C} is not a multiple of G={G}")
    check_keys(gn_param, "gn_param")
    eps = _check_eps(gn_param, "gn_param")
    out, cache = None, None
    # TODO: reshape x to (N*G, C//G*H*W): one row per (example, group). That
    # is layer norm's standardisation (_standardize along axis 1); reshape
    # back, then scale and shift. Cache (G, xhat, std, gamma) with xhat in
    # x's shape and std of shape (N*G, 1).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = x.shape[0]
    xhat_rows, _, var = _standardize(x.reshape(N * G, -1), 1, eps)
    xhat = xhat_rows.reshape(x.shape)
    out = gamma * xhat + beta
    cache = (G, xhat, np.sqrt(var + eps), gamma)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(out, "spatial_groupnorm_forward"), cache


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of group normalisation.

    dout: (N, C, H, W). Returns dx (N, C, H, W), dgamma and dbeta (1, C, 1, 1).
    """
    check_array(dout, "dout", ndim=4, floating=True)  # the cache is yours: its layout is not checked here
    dx, dgamma, dbeta = None, None, None
    # TODO: dgamma and dbeta sum over N, H and W (keep the (1, C, 1, 1) shape);
    # dx goes back through the per-row standardisation in the grouped shape.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    G, xhat, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(N * G, -1)
    dx = _standardize_backward(dxhat, xhat.reshape(N * G, -1), std, axis=1).reshape(dout.shape)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dx, "spatial_groupnorm_backward"), dgamma, dbeta
