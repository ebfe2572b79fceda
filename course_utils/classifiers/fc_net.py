"""Fully connected networks built from the layers in ``course_utils.layers``.

Both models follow the interface the Solver expects: a ``params`` dict of
numpy arrays and ``loss(X, y=None)`` returning class scores (N, C) when y is
None, else ``(loss, grads)`` with one gradient per parameter. The loss is the
mean softmax cross-entropy plus ``0.5 * reg * sum(W**2)`` over the weight
matrices (biases and normalisation parameters are not regularised), so the
regularisation gradient of W is ``reg * W``.

The module also provides every layer of ``course_utils.layers`` and every
sandwich layer of ``course_utils.layer_utils`` (their ``__all__``, imported
by name): the names CS231n's notebooks get from ``from ...classifiers.fc_net import *``.
"""
import warnings

import numpy as np

from course_utils import layer_utils, layers
from course_utils.checks import (
    check_array,
    check_labels,
    check_nonnegative,
    check_positive_int,
    implemented,
)
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
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    conv_backward_naive,
    conv_forward_naive,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    max_pool_backward_naive,
    max_pool_forward_naive,
    relu_backward,
    relu_forward,
    softmax_loss,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
    svm_loss,
)

__all__ = ["TwoLayerNet", "FullyConnectedNet", *layers.__all__, *layer_utils.__all__]

NORMALIZATIONS = (None, "batchnorm", "layernorm")


def _check_inputs(X, y, input_dim, num_classes):
    """Require X (N, d_1, ..., d_k) with d_1 * ... * d_k = input_dim and labels y (N,) or None."""
    check_array(X, "X", floating=True)
    if X.ndim < 2 or int(np.prod(X.shape[1:])) != input_dim:
        raise ValueError(
            f"X must have shape (N, ...) with {input_dim} values per example, got {X.shape}"
        )
    if y is not None:
        check_labels(y, "y", X.shape[0], num_classes=num_classes)


def _legacy_dropout(dropout, dropout_keep_ratio):
    """FullyConnectedNet(dropout=p), the 2019 keyword: warn and return p as the keep ratio."""
    if dropout_keep_ratio != 1:
        raise ValueError(
            f"give either dropout_keep_ratio={dropout_keep_ratio!r} or the older dropout={dropout!r} "
            "(same meaning: probability of keeping a unit), not both"
        )
    warnings.warn(
        "FullyConnectedNet(dropout=...) is deprecated: use dropout_keep_ratio=... "
        "(same meaning: the probability of keeping a unit)",
        DeprecationWarning,
        stacklevel=3,
    )
    return dropout


class TwoLayerNet:
    """Two-layer network: affine - relu - affine - softmax.

    input_dim: D, values per example (inputs of any shape (N, ...) are
    flattened); hidden_dim: H; num_classes: C.
    weight_scale: standard deviation of the initial weights (W1 (D, H) and
    W2 (H, C), drawn from N(0, weight_scale^2) with ``np.random.default_rng(seed)``);
    the biases b1 (H,) and b2 (C,) start at zero. reg: L2 strength.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, seed=None):
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        weight_scale = check_nonnegative(weight_scale, "weight_scale")
        self.reg = check_nonnegative(reg, "reg")
        rng = np.random.default_rng(seed)
        self.params = {}
        # TODO: fill self.params with W1 (input_dim, hidden_dim) and
        # W2 (hidden_dim, num_classes) drawn as weight_scale * rng.standard_normal(...),
        # and zero biases b1 (hidden_dim,) and b2 (num_classes,).
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        D, H, C = self.input_dim, self.hidden_dim, self.num_classes
        self.params["W1"] = weight_scale * rng.standard_normal((D, H))
        self.params["b1"] = np.zeros(H)
        self.params["W2"] = weight_scale * rng.standard_normal((H, C))
        self.params["b2"] = np.zeros(C)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def loss(self, X, y=None):
        """Scores, or loss and gradients, for a minibatch.

        X: (N, d_1, ..., d_k) with d_1 * ... * d_k = input_dim.
        y: (N,) integer labels in [0, C), or None.
        Returns scores (N, C) if y is None, else (loss, grads) with grads a
        dict holding the gradient of every entry of self.params.
        """
        _check_inputs(X, y, self.input_dim, self.num_classes)
        scores = None
        # TODO: forward pass: affine - relu (affine_relu_forward) then the
        # second affine layer, giving class scores. Keep the caches.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        hidden, hidden_cache = affine_relu_forward(X, self.params["W1"], self.params["b1"])
        scores, scores_cache = affine_forward(hidden, self.params["W2"], self.params["b2"])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        scores = implemented(scores, "TwoLayerNet forward pass")
        if y is None:
            return scores

        loss, grads = 0.0, {}
        # TODO: backward pass: softmax_loss on the scores, plus
        # 0.5 * reg * (sum(W1**2) + sum(W2**2)); backpropagate through both
        # layers and store every gradient in grads (add reg * W to each dW).
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        W1, W2 = self.params["W1"], self.params["W2"]
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads


class FullyConnectedNet:
    """Network of any depth: {affine - [norm] - relu - [dropout]} x (L - 1) - affine - softmax.

    hidden_dims: list of the L - 1 hidden layer sizes (may be empty: a linear
    softmax classifier). input_dim: D; num_classes: C.
    dropout_keep_ratio: probability of keeping a unit, in (0, 1]; 1 disables dropout.
    dropout: the 2019 name of dropout_keep_ratio (same meaning: probability
    of KEEPING a unit; note that 2017's ``dropout`` was the probability of
    dropping one). Still accepted with a DeprecationWarning; giving it
    together with a dropout_keep_ratio other than 1 raises ValueError.
    normalization: None, "batchnorm" or "layernorm", after every hidden affine layer.
    reg: L2 strength. weight_scale: standard deviation of the initial weights.
    dtype: float dtype of the parameters; inputs are converted to it
    (np.float64 for gradient checks).
    seed: seeds the weight initialisation (``np.random.default_rng(seed)``)
    and, when set, the dropout masks: ``dropout_param["seed"] = seed``, so every
    forward pass uses the same masks (reproducible, and what a gradient check
    needs). Set ``model.dropout_param.pop("seed")`` to draw fresh masks on
    every pass while training.

    Parameters: W1..WL, b1..bL, and for normalised nets gamma1..gamma(L-1)
    (ones) and beta1..beta(L-1) (zeros). ``bn_params`` holds one dict per
    hidden layer for the normalisation layer (the batch norm running
    statistics live there); ``loss`` sets their mode, and the dropout mode,
    to "train" when labels are given and to "test" when they are not.
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None, *, dropout=None):
        keep_name = "dropout_keep_ratio"
        if dropout is not None:
            dropout_keep_ratio, keep_name = _legacy_dropout(dropout, dropout_keep_ratio), "dropout"
        if isinstance(hidden_dims, (str, bytes)) or not hasattr(hidden_dims, "__iter__"):
            raise ValueError(f"hidden_dims must be a list of layer sizes, got {hidden_dims!r}")
        self.hidden_dims = [check_positive_int(h, "each entry of hidden_dims") for h in hidden_dims]
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {list(NORMALIZATIONS)}, got {normalization!r}")
        self.normalization = normalization
        keep = dropout_keep_ratio
        if isinstance(keep, bool) or not np.isscalar(keep) or not np.isreal(keep) or not 0 < keep <= 1:
            hint = " (2017's dropout=0, no dropout, is dropout_keep_ratio=1)" if keep_name == "dropout" else ""
            raise ValueError(
                f"{keep_name} is the probability of keeping a unit and must be in (0, 1], got {keep!r}{hint}"
            )
        self.use_dropout = keep != 1
        self.reg = check_nonnegative(reg, "reg")
        weight_scale = check_nonnegative(weight_scale, "weight_scale")
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise ValueError(f"dtype must be a floating-point dtype, got {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.num_layers = 1 + len(self.hidden_dims)

        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": float(keep)}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params = []
        if self.normalization is not None:
            self.bn_params = [{"mode": "train"} for _ in self.hidden_dims]

        rng = np.random.default_rng(seed)
        self.params = {}
        # TODO: for layer i = 1..L store Wi (in_dim, out_dim) drawn as
        # weight_scale * rng.standard_normal(...) and zero biases bi (out_dim,),
        # where the sizes chain input_dim -> hidden_dims... -> num_classes.
        # With normalisation, every hidden layer i < L also gets gammai (ones)
        # and betai (zeros) of its width. Draw the weights in order W1, W2, ...
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        dims = [self.input_dim, *self.hidden_dims, self.num_classes]
        for i in range(1, self.num_layers + 1):
            fan_in, fan_out = dims[i - 1], dims[i]
            self.params[f"W{i}"] = weight_scale * rng.standard_normal((fan_in, fan_out))
            self.params[f"b{i}"] = np.zeros(fan_out)
            if self.normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        for name, value in self.params.items():
            self.params[name] = value.astype(self.dtype)

    def loss(self, X, y=None):
        """Scores, or loss and gradients, for a minibatch.

        X: (N, d_1, ..., d_k) with d_1 * ... * d_k = input_dim (converted to dtype).
        y: (N,) integer labels in [0, C), or None (test mode: batch norm uses
        its running statistics and dropout is off).
        Returns scores (N, C) if y is None, else (loss, grads).
        """
        _check_inputs(X, y, self.input_dim, self.num_classes)
        X = X.astype(self.dtype, copy=False)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

        scores = None
        # TODO: forward pass. For each hidden layer i: affine_forward, then
        # batchnorm_forward or layernorm_forward (with gammai, betai and
        # self.bn_params[i - 1]) if self.normalization says so, relu_forward,
        # then dropout_forward with self.dropout_param if self.use_dropout.
        # Finish with the last affine layer. Keep every cache for the
        # backward pass.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        norm_forward = {"batchnorm": batchnorm_forward, "layernorm": layernorm_forward}.get(self.normalization)
        caches = []
        out = X
        for i in range(1, self.num_layers):
            out, affine_cache = affine_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            norm_cache = drop_cache = None
            if norm_forward is not None:
                out, norm_cache = norm_forward(
                    out, self.params[f"gamma{i}"], self.params[f"beta{i}"], self.bn_params[i - 1]
                )
            out, relu_cache = relu_forward(out)
            if self.use_dropout:
                out, drop_cache = dropout_forward(out, self.dropout_param)
            caches.append((affine_cache, norm_cache, relu_cache, drop_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(out, self.params[f"W{L}"], self.params[f"b{L}"])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        scores = implemented(scores, "FullyConnectedNet forward pass")
        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        # TODO: backward pass: softmax_loss on the scores plus
        # 0.5 * reg * sum(Wi**2) over all weights; then undo the layers in
        # reverse order (dropout, relu, normalisation, affine), storing the
        # gradient of every parameter in grads and adding reg * Wi to each dWi.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        norm_backward = {"batchnorm": batchnorm_backward, "layernorm": layernorm_backward}.get(self.normalization)
        loss, dout = softmax_loss(scores, y)
        L = self.num_layers
        dout, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dout, last_cache)
        for i in range(L - 1, 0, -1):
            affine_cache, norm_cache, relu_cache, drop_cache = caches[i - 1]
            if drop_cache is not None:
                dout = dropout_backward(dout, drop_cache)
            dout = relu_backward(dout, relu_cache)
            if norm_backward is not None:
                dout, grads[f"gamma{i}"], grads[f"beta{i}"] = norm_backward(dout, norm_cache)
            dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dout, affine_cache)
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * float(np.sum(W * W))
            grads[f"W{i}"] += self.reg * W
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads
