"""A deeper convolutional network, the one ``course_utils.pretrained`` trains for assignment 3.

Architecture (3x3 convolutions with stride 1 and one pixel of zero padding)::

    conv1 - relu - conv2 - relu - pool1 - conv3 - relu - conv4 - relu - pool2 - fc1 - relu - scores

Every pool is 2x2 with stride 2. The model is provided code: it uses only the
provided fast layers (``course_utils.fast_layers``), the provided
``rnn_layers.temporal_softmax_loss`` and its own one-line affine and ReLU steps, so
assignment 3 does not depend on the student's assignment 2 layers (a stubbed
``layers.py`` leaves this model working). Beyond the Solver interface (``params``, ``loss``) it exposes what the
visualisation and transfer notebooks need:

- ``activations(X, layer)``: the output of a named layer (after its ReLU);
- ``backward(X, layer, dout)``: the gradient with respect to the input images of
  ``sum(dout * activations(X, layer))``, e.g. of one class score per image;
- ``preprocess`` / ``deprocess``: images (N, H, W, C) on the 0..255 scale to
  normalised network input (N, C, H, W) and back.
"""
import numpy as np

from course_utils.checks import check_array, check_labels, check_nonnegative, check_positive_int
from course_utils.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from course_utils.rnn_layers import temporal_softmax_loss

LAYERS = ("conv1", "conv2", "pool1", "conv3", "conv4", "pool2", "fc1", "scores")
CONV_PARAM = {"stride": 1, "pad": 1}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


class DeepConvNet:
    """[conv - relu - conv - relu - pool] x 2 - affine - relu - affine - softmax.

    input_dim: (C, H, W) of one image; H and W are multiples of 4.
    num_filters: (F1, F2): conv1 and conv2 have F1 filters, conv3 and conv4 F2.
    hidden_dim: width of fc1; num_classes: width of the scores.
    Weights start as He-scaled normal draws (standard deviation sqrt(2 / fan_in))
    from ``np.random.default_rng(seed)``, biases at 0. reg: L2 strength, the loss
    adds ``0.5 * reg * sum(W**2)`` over the six weight arrays. dtype: float dtype
    of the parameters (np.float64 for gradient checks).
    mean, std: per-channel statistics of the 0..1 pixel values used by
    ``preprocess`` (a pretrained model carries those of its training set).
    dropout_keep_ratio: inverted dropout on fc1's output, only in ``loss(X, y)`` (training);
    scores, activations and input gradients never drop units. Masks come from a generator
    seeded with ``seed``. 1 = no dropout.

    Parameters: W1 (F1, C, 3, 3), W2 (F1, F1, 3, 3), W3 (F2, F1, 3, 3),
    W4 (F2, F2, 3, 3), W5 (F2 * H/4 * W/4, hidden_dim), W6 (hidden_dim, num_classes)
    and biases b1..b6 of matching widths.
    """

    layers = LAYERS

    def __init__(self, input_dim=(1, 28, 28), num_filters=(16, 32), hidden_dim=128, num_classes=10,
                 reg=0.0, dtype=np.float32, seed=None, mean=None, std=None, dropout_keep_ratio=1.0):
        if isinstance(input_dim, (str, bytes)) or not hasattr(input_dim, "__len__") or len(input_dim) != 3:
            raise ValueError(f"input_dim must be (C, H, W), got {input_dim!r}")
        C, H, W = (check_positive_int(d, "each entry of input_dim") for d in input_dim)
        if H % 4 or W % 4:
            raise ValueError(f"image height and width must be multiples of 4 (two 2x2 pools), got {H}x{W}")
        if len(num_filters) != 2:
            raise ValueError(f"num_filters must be (F1, F2), got {num_filters!r}")
        F1, F2 = (check_positive_int(f, "each entry of num_filters") for f in num_filters)
        self.input_dim = (C, H, W)
        self.num_filters = (F1, F2)
        self.hidden_dim = check_positive_int(hidden_dim, "hidden_dim")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.reg = check_nonnegative(reg, "reg")
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise ValueError(f"dtype must be a floating-point dtype, got {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.mean = np.zeros(C) if mean is None else np.asarray(mean, dtype=float).reshape(C)
        self.std = np.ones(C) if std is None else np.asarray(std, dtype=float).reshape(C)
        keep = float(dropout_keep_ratio)
        if not 0.0 < keep <= 1.0:
            raise ValueError(f"dropout_keep_ratio must be in (0, 1], got {dropout_keep_ratio!r}")
        self.dropout_keep_ratio = keep
        self._dropout_rng = np.random.default_rng(seed)

        shapes = {
            "W1": (F1, C, 3, 3), "W2": (F1, F1, 3, 3), "W3": (F2, F1, 3, 3), "W4": (F2, F2, 3, 3),
            "W5": (F2 * (H // 4) * (W // 4), self.hidden_dim), "W6": (self.hidden_dim, self.num_classes),
        }
        rng = np.random.default_rng(seed)
        self.params = {}
        for index, (name, shape) in enumerate(shapes.items(), start=1):
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            self.params[name] = (np.sqrt(2.0 / fan_in) * rng.standard_normal(shape)).astype(self.dtype)
            self.params[f"b{index}"] = np.zeros(shape[0] if len(shape) == 4 else shape[1], dtype=self.dtype)

    # --- images in and out -------------------------------------------------------------------

    def preprocess(self, images):
        """images (N, H, W, C) on the 0..255 scale -> network input (N, C, H, W) of dtype."""
        images = check_array(images, "images", ndim=4)
        if images.shape[3] != self.input_dim[0]:
            raise ValueError(f"images must have {self.input_dim[0]} channel(s) last, got shape {images.shape}")
        X = (images / 255.0 - self.mean) / self.std
        return X.transpose(0, 3, 1, 2).astype(self.dtype)

    def deprocess(self, X):
        """Network input (N, C, H, W) -> images (N, H, W, C) on the 0..255 scale, clipped."""
        X = check_array(X, "X", ndim=4)
        images = X.transpose(0, 2, 3, 1) * self.std + self.mean
        return np.clip(255.0 * images, 0.0, 255.0)

    # --- forward and backward ---------------------------------------------------------------

    def _forward(self, X, last="scores", train=False):
        """Run the layers up to ``last``; return (its output, caches of the layers run).
        train: apply dropout to fc1's output."""
        if last not in LAYERS:
            raise ValueError(f"unknown layer {last!r}; expected one of {list(LAYERS)}")
        if last in ("fc1", "scores"):
            check_array(X, "X", ndim=4, shape=(None, *self.input_dim), floating=True)
        else:  # the convolutional layers run on images of any size the two pools divide
            check_array(X, "X", ndim=4, shape=(None, self.input_dim[0], None, None), floating=True)
            if X.shape[2] % 4 or X.shape[3] % 4:
                raise ValueError(f"image height and width must be multiples of 4, got {X.shape[2]}x{X.shape[3]}")
        out = X.astype(self.dtype, copy=False)
        caches = []
        p = self.params
        for index, layer in enumerate(LAYERS):
            if layer.startswith("conv"):
                k = layer[-1]
                out, cache = conv_forward_fast(out, p[f"W{k}"], p[f"b{k}"], CONV_PARAM)
                out = np.maximum(out, 0)
                cache = (cache, out)
            elif layer.startswith("pool"):
                out, cache = max_pool_forward_fast(out, POOL_PARAM)
            else:
                k = "5" if layer == "fc1" else "6"
                cache = out
                out = out.reshape(out.shape[0], -1) @ p[f"W{k}"] + p[f"b{k}"]
                if layer == "fc1":
                    scale = (out > 0).astype(out.dtype)        # relu, then dropout: out * scale
                    if train and self.dropout_keep_ratio < 1:
                        keep = self._dropout_rng.random(out.shape) < self.dropout_keep_ratio
                        scale *= keep / self.dropout_keep_ratio
                    out = out * scale
                    cache = (cache, scale)
            caches.append(cache)
            if layer == last:
                return out, caches
        raise AssertionError("unreachable")

    def _backward(self, dout, caches, input_grad=True):
        """Backpropagate ``dout`` (the output of the last cached layer) -> (dX, grads).
        input_grad=False: training, dX is not needed (None), conv1 skips it."""
        grads = {}
        p = self.params
        for layer, cache in reversed(list(zip(LAYERS, caches))):
            if layer.startswith("conv"):
                k = layer[-1]
                conv_cache, relu_out = cache
                dout = dout * (relu_out > 0)
                dout, grads[f"W{k}"], grads[f"b{k}"] = conv_backward_fast(
                    dout, conv_cache, input_grad=input_grad or layer != "conv1")
            elif layer.startswith("pool"):
                dout = max_pool_backward_fast(dout, cache)
            else:
                k = "5" if layer == "fc1" else "6"
                if layer == "fc1":
                    cache, scale = cache
                    dout = dout * scale
                flat = cache.reshape(cache.shape[0], -1)
                grads[f"W{k}"] = flat.T @ dout
                grads[f"b{k}"] = dout.sum(axis=0)
                dout = (dout @ p[f"W{k}"].T).reshape(cache.shape)
        return dout, grads

    def activations(self, X, layer):
        """Output of ``layer`` (one of ``layers``) for X (N, C, H, W).

        conv and pool layers give (N, F, H', W'), fc1 (N, hidden_dim), scores (N, num_classes).
        Up to pool2, X may be larger than input_dim (H and W multiples of 4): the layers
        are convolutions and pools, which slide over any image.
        """
        return self._forward(X, layer)[0]

    def backward(self, X, layer, dout):
        """Gradient of ``sum(dout * activations(X, layer))`` with respect to X: (N, C, H, W).

        dout has the shape of ``activations(X, layer)``; with layer "scores" and a
        one-hot dout it is the gradient of each image's chosen class score.
        """
        out, caches = self._forward(X, layer)
        dout = check_array(dout, "dout", shape=out.shape)
        dX, _ = self._backward(dout.astype(self.dtype, copy=False), caches)
        return dX

    def loss(self, X, y=None):
        """Class scores (N, num_classes) if y is None, else (loss, grads) for the Solver."""
        if y is not None:
            check_labels(y, "y", len(X), num_classes=self.num_classes)
        scores, caches = self._forward(X, train=y is not None)
        if y is None:
            return scores
        # the provided temporal softmax with one time step: the mean cross-entropy over N
        loss, dscores = temporal_softmax_loss(scores[:, None], y[:, None], np.ones((len(y), 1), dtype=bool))
        dscores = dscores[:, 0]
        _, grads = self._backward(dscores, caches, input_grad=False)
        for k in range(1, 7):
            W = self.params[f"W{k}"]
            loss += 0.5 * self.reg * float(np.sum(W * W))
            grads[f"W{k}"] = grads[f"W{k}"] + self.reg * W
        return loss, grads

