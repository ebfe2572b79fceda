"""Transfer learning: reuse a pretrained DeepConvNet for a new task with few labels.

Assignment 3's TransferLearning notebook takes the kit's network pretrained on one part of
a dataset (``pretrained_net("classes_0_4")``) and compares three ways to learn a new task:

- **from scratch**: a freshly initialised DeepConvNet trained on the few labelled images;
- **feature extractor**: the pretrained network frozen, its codes (e.g. the fc1 outputs)
  fed to a linear classifier (``extract_features``);
- **fine-tuning**: the pretrained layers copied into a network with a new last layer
  (``transfer_net``), all trained, the copied layers with a smaller learning rate
  (``fine_tune_configs``).

It ends by running the network on images larger than it was trained on, its affine layers
turned into convolutions (``affine_to_conv``, ``fully_convolutional_scores``).

Provided here: ``resize_images`` (bilinear), ``labelled_subset`` (k labelled images per
class), ``conv_trunk`` (the convolutional part of a DeepConvNet on images of any size) and
``train_network`` (a fixed number of Adam steps with the Solver, no validation set).
"""
import copy
import math
import numbers

import numpy as np

from course_utils.checks import check_array, check_labels, check_positive_int, implemented
from course_utils.classifiers.deep_conv_net import DeepConvNet
from course_utils.fast_layers import conv_forward_fast
from course_utils.solver import Solver

# --- provided helpers ---------------------------------------------------------------------


def resize_images(images, size):
    """Bilinear resize of images (N, H, W, C) to (N, h, w, C); size is h (square) or (h, w).

    Pixel centres are aligned (like ``scipy.ndimage.zoom(..., grid_mode=True)`` and most image
    libraries): output pixel i samples the input at (i + 0.5) * H / h - 0.5, clamped to the
    image. Returns float64.
    """
    images = check_array(images, "images", ndim=4)
    if isinstance(size, numbers.Integral):
        size = (size, size)
    h, w = (check_positive_int(s, "each entry of size") for s in size)

    def weights(n_in, n_out):
        # (n_out, n_in) matrix whose rows hold the two interpolation weights of an output pixel
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        frac = src - lo
        A = np.zeros((n_out, n_in))
        np.add.at(A, (np.arange(n_out), lo), 1 - frac)
        np.add.at(A, (np.arange(n_out), hi), frac)
        return A

    Ah, Aw = weights(images.shape[1], h), weights(images.shape[2], w)
    return np.einsum("ph,nhwc,qw->npqc", Ah, images.astype(np.float64), Aw)


def labelled_subset(y, per_class, seed=None):
    """Indices of ``per_class`` examples of every class present in y (N,), drawn without replacement.

    The indices come sorted; a class with fewer than per_class examples raises ValueError.
    """
    check_labels(y, "y", len(y))
    per_class = check_positive_int(per_class, "per_class")
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise ValueError(f"class {c} has only {len(members)} examples, {per_class} asked for")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def conv_trunk(net, X):
    """The convolutional part of a DeepConvNet (conv1 ... pool2) on X (N, C, H, W) of any size:
    ``net.activations(X, "pool2")``, which accepts any H and W that are multiples of 4.

    Returns the pool2 maps (N, F2, H/4, W/4).
    """
    return net.activations(X, "pool2")


class _LastStepSolver(Solver):
    """A Solver without accuracy checks that keeps the parameters of its last step."""

    def _end_of_epoch(self, epoch):
        self.best_params = {name: w.copy() for name, w in self.model.params.items()}


def train_network(model, X, y, num_steps, learning_rate, batch_size=50, optim_configs=None, seed=None,
                  progress=False):
    """Train ``model`` with Adam on X (N, C, H, W), y (N,) for about num_steps minibatches.

    There is no validation set (with a few labels per class there is none to spare): the
    parameters after the last step are kept. The step count is rounded up to whole epochs of
    max(N // batch_size, 1) steps; batch_size is capped at N. optim_configs: optional dict
    {param name: Adam config} (e.g. from ``fine_tune_configs``) that replaces the single
    ``{"learning_rate": learning_rate}`` of every parameter. Returns the Solver (loss_history).
    """
    num_steps = check_positive_int(num_steps, "num_steps")
    batch_size = min(check_positive_int(batch_size, "batch_size"), len(X))
    steps_per_epoch = max(len(X) // batch_size, 1)
    solver = _LastStepSolver(model, {"X_train": X, "y_train": y, "X_val": X[:1], "y_val": y[:1]},
                             update_rule="adam", optim_config={"learning_rate": learning_rate},
                             batch_size=batch_size, num_epochs=math.ceil(num_steps / steps_per_epoch),
                             verbose=False, progress=progress, seed=seed)
    if optim_configs is not None:
        if set(optim_configs) != set(model.params):
            raise ValueError(f"optim_configs must have one config per parameter {sorted(model.params)}, "
                             f"got {sorted(optim_configs)}")
        solver.optim_configs = copy.deepcopy(optim_configs)
    solver.train()
    return solver


# --- exercises --------------------------------------------------------------------------------


def extract_features(net, X, layer="fc1", batch_size=200):
    """Codes of X at one layer of a (frozen) network, one flat row per image.

    net: a DeepConvNet; X: (N, C, H, W) preprocessed images of the net's input size;
    layer: one of ``net.layers``; batch_size: images per forward pass (only bounds memory:
    the result does not depend on it).
    Returns (N, D) of the net's dtype, row n = ``net.activations(X[n:n+1], layer)`` flattened
    (D = F*H'*W' for conv and pool layers, hidden_dim for fc1, num_classes for scores).
    Raises ValueError for an unknown layer, X that is not 4-D or holds no image, or batch_size < 1.
    """
    if layer not in net.layers:
        raise ValueError(f"unknown layer {layer!r}; expected one of {list(net.layers)}")
    check_array(X, "X", ndim=4)
    if len(X) == 0:
        raise ValueError(f"X must hold at least one image, got shape {X.shape}")
    batch_size = check_positive_int(batch_size, "batch_size")
    features = None
    # TODO: run the network up to `layer` on X one batch of `batch_size` images at a time
    # (net.activations), flatten each batch's output to (batch, D) and stack the batches
    # in order into `features` (N, D).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    chunks = [net.activations(X[i:i + batch_size], layer) for i in range(0, len(X), batch_size)]
    features = np.concatenate([c.reshape(c.shape[0], -1) for c in chunks], axis=0)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(features, "extract_features")


def transfer_net(pretrained, num_classes, reg=0.0, seed=None):
    """A new DeepConvNet for a task with ``num_classes`` classes that reuses ``pretrained``.

    pretrained: a DeepConvNet; num_classes: int >= 1; reg: the new net's L2 strength;
    seed: seed of the fresh last layer (any random source is fine).
    The new net has pretrained's input_dim, num_filters, hidden_dim and dtype, ``reg`` and
    ``num_classes``. Its mean and std are pretrained's (its images are preprocessed the same
    way). W1..W5 and b1..b5 are copies of pretrained's: equal values, but separate arrays,
    so training one network never changes the other. The last layer is new: W6
    (hidden_dim, num_classes) drawn as DeepConvNet draws it (normal, mean 0, standard
    deviation sqrt(2 / hidden_dim)) and b6 (num_classes,) zeros. pretrained is not changed.
    Raises ValueError if num_classes is not an integer >= 1.
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    net = None
    # TODO: build a DeepConvNet with the same architecture and preprocessing statistics
    # as `pretrained` but `num_classes` outputs, then give it copies of every pretrained
    # parameter except the last layer's (W6, b6), which keep their fresh initialisation.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    net = DeepConvNet(input_dim=pretrained.input_dim, num_filters=pretrained.num_filters,
                      hidden_dim=pretrained.hidden_dim, num_classes=num_classes, reg=reg,
                      dtype=pretrained.dtype, seed=seed, mean=pretrained.mean, std=pretrained.std)
    for name, value in pretrained.params.items():
        if name not in ("W6", "b6"):
            net.params[name] = value.copy()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(net, "transfer_net")


def fine_tune_configs(param_names, optim_config, pretrained_lr_scale, new_params=("W6", "b6")):
    """One optimiser config per parameter for fine-tuning: the pretrained layers learn slower.

    param_names: names of the model's parameters (e.g. ``model.params`` or its keys);
    optim_config: dict of update-rule settings holding "learning_rate";
    pretrained_lr_scale: number >= 0; new_params: the names trained from scratch.
    Returns {name: config} for every name of param_names: a separate deep copy of
    optim_config each (changing one config never changes another or optim_config), whose
    "learning_rate" is optim_config's times pretrained_lr_scale for the names not in
    new_params and unchanged for the names in new_params; every other key is kept as is.
    Raises ValueError if optim_config has no "learning_rate", if pretrained_lr_scale is not
    a number >= 0, or if a name of new_params is not in param_names.
    """
    names = list(param_names)
    if not isinstance(optim_config, dict) or "learning_rate" not in optim_config:
        raise ValueError(f"optim_config must be a dict with a 'learning_rate', got {optim_config!r}")
    if isinstance(pretrained_lr_scale, bool) or not isinstance(pretrained_lr_scale, numbers.Real) \
            or not pretrained_lr_scale >= 0:
        raise ValueError(f"pretrained_lr_scale must be a number >= 0, got {pretrained_lr_scale!r}")
    missing = [name for name in new_params if name not in names]
    if missing:
        raise ValueError(f"new_params {missing} are not parameters of the model {names}")
    configs = None
    # TODO: build `configs`, one deep copy of optim_config per parameter name, with the
    # learning rate of every pretrained (not new) parameter multiplied by pretrained_lr_scale.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    configs = {}
    for name in names:
        config = copy.deepcopy(optim_config)
        if name not in new_params:
            config["learning_rate"] = optim_config["learning_rate"] * pretrained_lr_scale
        configs[name] = config
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(configs, "fine_tune_configs")


def affine_to_conv(W, b, in_shape):
    """The convolution that computes an affine layer on an input of shape in_shape.

    W: (C*HH*WW, M) weights of an affine layer whose input x (N, C, HH, WW) is flattened
    row-major (``x.reshape(N, -1)``, as DeepConvNet does); b: (M,); in_shape: (C, HH, WW).
    Returns (w, b_conv): w (M, C, HH, WW) with the same values as W, rearranged, and b_conv
    (M,) equal to b, both new arrays of W's and b's dtypes, such that a convolution with
    stride 1 and no padding of any x (N, C, HH, WW) gives (N, M, 1, 1) equal to
    ``x.reshape(N, -1) @ W + b``; on a larger input it slides the affine layer over every
    HH x WW window.
    Raises ValueError if W is not 2-D, if W.shape[0] != C*HH*WW or if b is not (M,).
    """
    check_array(W, "W", ndim=2)
    if len(in_shape) != 3:
        raise ValueError(f"in_shape must be (C, HH, WW), got {in_shape!r}")
    C, HH, WW = (check_positive_int(d, "each entry of in_shape") for d in in_shape)
    if W.shape[0] != C * HH * WW:
        raise ValueError(f"W must have C*HH*WW = {C * HH * WW} rows for in_shape {tuple(in_shape)}, "
                         f"got shape {W.shape}")
    check_array(b, "b", shape=(W.shape[1],))
    w, b_conv = None, None
    # TODO: rearrange W into convolution filters w (M, C, HH, WW): filter m holds column m
    # of W, in the order in which the input was flattened. b_conv is a copy of b.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    w = np.ascontiguousarray(W.T.reshape(W.shape[1], C, HH, WW))
    b_conv = b.copy()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(w, "affine_to_conv"), b_conv


def fully_convolutional_scores(net, X):
    """Class-score maps of a DeepConvNet slid over images at least as large as its input.

    net: a DeepConvNet with input_dim (C, H, W); X: (N, C, H2, W2) preprocessed images,
    H2 >= H and W2 >= W, both multiples of 4.
    Returns (N, num_classes, H2/4 - H/4 + 1, W2/4 - W/4 + 1): entry [n, :, i, j] is the
    scores vector ``net.loss`` gives for the H x W window of X[n] with top-left corner
    (4i, 4j), computed in one pass (the window positions step by 4 pixels, the two pools'
    stride). For H2 = H and W2 = W it is net.loss(X) reshaped to (N, num_classes, 1, 1).
    Uses ``conv_trunk`` for conv1 ... pool2, then fc1 and the scores layer as convolutions
    (with ReLU after fc1).
    Raises ValueError if X is not 4-D, has the wrong channel count, is smaller than the net's
    input or has a side that is not a multiple of 4.
    """
    X = check_array(X, "X", ndim=4, floating=True)
    C, H, W = net.input_dim
    if X.shape[1] != C or X.shape[2] < H or X.shape[3] < W or X.shape[2] % 4 or X.shape[3] % 4:
        raise ValueError(f"X must have shape (N, {C}, H2, W2) with H2 >= {H}, W2 >= {W}, both multiples "
                         f"of 4, got {X.shape}")
    scores = None
    # TODO: run conv_trunk, then fc1 as a convolution (affine_to_conv with the shape of one
    # pool2 output, stride 1, no padding; then ReLU) and the scores layer as a 1x1
    # convolution, with conv_forward_fast.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    p = net.params
    features = conv_trunk(net, X)
    no_pad = {"stride": 1, "pad": 0}
    w5, b5 = affine_to_conv(p["W5"], p["b5"], (features.shape[1], H // 4, W // 4))
    hidden = np.maximum(conv_forward_fast(features, w5, b5, no_pad)[0], 0)
    w6, b6 = affine_to_conv(p["W6"], p["b6"], (hidden.shape[1], 1, 1))
    scores = conv_forward_fast(hidden, w6, b6, no_pad)[0]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(scores, "fully_convolutional_scores")
