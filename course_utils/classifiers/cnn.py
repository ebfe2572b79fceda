"""A small convolutional network built from the sandwich layers of ``layer_utils``.

It follows the interface the Solver expects: a ``params`` dict of numpy
arrays and ``loss(X, y=None)`` returning class scores (N, C) when y is None,
else ``(loss, grads)``. The loss is the mean softmax cross-entropy plus
``0.5 * reg * sum(W**2)`` over the three weight arrays.

The module also provides every layer of ``course_utils.layers``, the four fast
layers of ``course_utils.fast_layers`` and every sandwich layer of
``course_utils.layer_utils`` (listed in ``__all__``, imported by name): the
names CS231n's notebooks get from ``from ...classifiers.cnn import *``.
"""
import numpy as np

from course_utils import layer_utils, layers
from course_utils.checks import (
    check_array,
    check_labels,
    check_nonnegative,
    check_positive_int,
    implemented,
)
from course_utils.conv_shapes import conv_output_shape, pool_output_shape
from course_utils.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
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

FAST_LAYERS = ["conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast", "max_pool_backward_fast"]
__all__ = ["ThreeLayerConvNet", *layers.__all__, *FAST_LAYERS, *layer_utils.__all__]


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    input_dim: (C, H, W) of one image; the batch is (N, C, H, W).
    num_filters: F, filters of the convolution; filter_size: their height and
    width (HH = WW). The convolution has stride 1 and pads
    (filter_size - 1) // 2 zeros on each side, which keeps H and W for odd
    filter sizes ("same" padding). The pool (2x2, stride 2) halves them,
    rounding down, so the affine layer sees F * H_pool * W_pool values.
    hidden_dim: width of the hidden affine layer; num_classes: C.
    weight_scale: standard deviation of the initial weights, drawn from
    N(0, weight_scale^2) with ``np.random.default_rng(seed)``; biases start at 0.
    reg: L2 strength. dtype: float dtype of the parameters (inputs are
    converted to it; np.float64 for gradient checks).

    Parameters: W1 (F, C, filter_size, filter_size), b1 (F,),
    W2 (F * H_pool * W_pool, hidden_dim), b2 (hidden_dim,),
    W3 (hidden_dim, num_classes), b3 (num_classes,).
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32, seed=None):
        if isinstance(input_dim, (str, bytes)) or not hasattr(input_dim, "__len__") or len(input_dim) != 3:
            raise ValueError(f"input_dim must be (C, H, W), got {input_dim!r}")
        self.input_dim = tuple(check_positive_int(d, "each entry of input_dim") for d in input_dim)
        self.num_filters = check_positive_int(num_filters, "num_filters")
        self.filter_size = check_positive_int(filter_size, "filter_size")
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        check_nonnegative(weight_scale, "weight_scale")
        self.reg = check_nonnegative(reg, "reg")
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise ValueError(f"dtype must be a floating-point dtype, got {dtype!r}")
        self.dtype = np.dtype(dtype)

        self.conv_param = {"stride": 1, "pad": (self.filter_size - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        C, H, W = self.input_dim
        conv_h, conv_w = conv_output_shape(H, W, self.filter_size, self.filter_size,
                                           self.conv_param["pad"], self.conv_param["stride"])
        pool_h, pool_w = pool_output_shape(conv_h, conv_w, 2, 2, 2)
        self.pooled_dim = self.num_filters * pool_h * pool_w

        rng = np.random.default_rng(seed)
        self.params = {}
        # TODO: fill self.params: W1 (num_filters, C, filter_size, filter_size),
        # W2 (self.pooled_dim, hidden_dim) and W3 (hidden_dim, num_classes),
        # each drawn as weight_scale * rng.standard_normal(...) in that order,
        # and zero biases b1 (num_filters,), b2 (hidden_dim,), b3 (num_classes,).
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        F, HH = self.num_filters, self.filter_size
        self.params["W1"] = weight_scale * rng.standard_normal((F, C, HH, HH))
        self.params["b1"] = np.zeros(F)
        self.params["W2"] = weight_scale * rng.standard_normal((self.pooled_dim, self.hidden_dim))
        self.params["b2"] = np.zeros(self.hidden_dim)
        self.params["W3"] = weight_scale * rng.standard_normal((self.hidden_dim, self.num_classes))
        self.params["b3"] = np.zeros(self.num_classes)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        for name, value in self.params.items():
            self.params[name] = value.astype(self.dtype)

    def loss(self, X, y=None):
        """Scores, or loss and gradients, for a minibatch.

        X: (N, C, H, W) matching input_dim (converted to dtype).
        y: (N,) integer labels in [0, num_classes), or None.
        Returns scores (N, num_classes) if y is None, else (loss, grads).
        """
        check_array(X, "X", ndim=4, shape=(None, *self.input_dim), floating=True)
        if y is not None:
            check_labels(y, "y", X.shape[0], num_classes=self.num_classes)
        X = X.astype(self.dtype, copy=False)

        scores = None
        # TODO: forward pass: conv_relu_pool_forward with self.conv_param and
        # self.pool_param, affine_relu_forward, then affine_forward for the
        # class scores. Keep the three caches.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        pooled, pool_cache = conv_relu_pool_forward(
            X, self.params["W1"], self.params["b1"], self.conv_param, self.pool_param
        )
        hidden, hidden_cache = affine_relu_forward(pooled, self.params["W2"], self.params["b2"])
        scores, scores_cache = affine_forward(hidden, self.params["W3"], self.params["b3"])
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        scores = implemented(scores, "ThreeLayerConvNet forward pass")
        if y is None:
            return scores

        loss, grads = 0.0, {}
        # TODO: backward pass: softmax_loss plus 0.5 * reg * sum(W**2) over
        # W1, W2 and W3; backpropagate through the three blocks in reverse,
        # storing every gradient in grads and adding reg * W to each dW.
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        loss, dscores = softmax_loss(scores, y)
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache)
        for name in ("W1", "W2", "W3"):
            W = self.params[name]
            loss += 0.5 * self.reg * float(np.sum(W * W))
            grads[name] += self.reg * W
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return loss, grads
