"""Looking inside a trained ConvNet: activations, saliency, occlusion, fooling images, class images.

Every function works on *network input*: images already passed through
``model.preprocess``, shape (N, C, H, W). ``model`` is a
``course_utils.classifiers.deep_conv_net.DeepConvNet`` or any object with the
same three methods:

- ``model.loss(X)``: class scores (N, num_classes), no softmax;
- ``model.activations(X, layer)``: the output of a named layer;
- ``model.backward(X, layer, dout)``: the gradient with respect to X of
  ``sum(dout * model.activations(X, layer))``. With ``layer="scores"`` and a
  one-hot ``dout`` this is the gradient of one chosen class score per image.

Provided helpers (no exercise): ``layer_activations`` (a layer's output in batches),
``jitter`` (shift images circularly), ``gaussian_kernel`` and ``blur_image`` (Gaussian blur).
The exercises sit between the START / END OF YOUR CODE markers.
"""
import math

import numpy as np

from course_utils.checks import check_array, check_labels, check_nonnegative, check_positive_int, implemented


# ---------------------------------------------------------------------------
# provided helpers
# ---------------------------------------------------------------------------

def layer_activations(model, X, layer, batch_size=250):
    """``model.activations(X, layer)`` computed ``batch_size`` images at a time and joined.

    X: (N, C, H, W) network input. Returns (N, ...) the layer's output for every image.
    """
    X = _check_input(X)
    batch_size = check_positive_int(batch_size, "batch_size")
    parts = [model.activations(X[i:i + batch_size], layer) for i in range(0, len(X), batch_size)]
    return np.concatenate(parts) if parts else model.activations(X, layer)


def jitter(X, ox, oy):
    """Shift images X (N, C, H, W) circularly by ox columns (to the right) and oy rows (down).

    Pixels pushed out on one side come back on the other (``np.roll``), so
    ``jitter(jitter(X, ox, oy), -ox, -oy)`` is X again. Returns a new array.
    """
    X = _check_input(X)
    return np.roll(X, shift=(int(oy), int(ox)), axis=(2, 3))


def gaussian_kernel(sigma):
    """The 1-D Gaussian weights exp(-t**2 / (2 sigma**2)) for t = -r..r, r = ceil(3 sigma), summing to 1."""
    sigma = check_nonnegative(sigma, "sigma")
    radius = int(math.ceil(3 * sigma))
    if radius == 0:
        return np.ones(1)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-t ** 2 / (2 * sigma ** 2))
    return weights / weights.sum()


def blur_image(X, sigma=0.5):
    """Blur every channel of X (N, C, H, W) with a Gaussian of standard deviation sigma pixels.

    Separable: the 1-D ``gaussian_kernel(sigma)`` along the rows, then along the columns;
    the image is extended by mirroring at its borders (``np.pad`` mode "reflect", which
    needs H and W larger than the kernel radius). sigma = 0 returns a copy.
    Returns an array of X's shape and dtype.
    """
    X = _check_input(X)
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    if radius == 0:
        return X.copy()
    H, W = X.shape[2:]
    if radius >= min(H, W):
        raise ValueError(f"sigma={sigma} needs images larger than {radius} pixels on each side, got {H}x{W}")
    out = X.astype(np.float64)
    for axis, size in ((2, H), (3, W)):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="reflect")
        out = sum(w * np.take(padded, np.arange(k, k + size), axis=axis) for k, w in enumerate(kernel))
    return out.astype(X.dtype)


# ---------------------------------------------------------------------------
# what the filters respond to
# ---------------------------------------------------------------------------

def dead_filters(activations, threshold=0.0):
    """Which units of a layer never fire on the given images.

    activations: (N, F, H, W) output of a conv or pool layer, or (N, F) of a
        fully connected one, for N >= 1 images.
    threshold: a unit is *dead* when none of its values (over all N images and,
        for conv layers, all H x W positions) is larger than threshold. With the
        default 0 that is a ReLU unit that outputs 0 everywhere.
    Returns dead: (F,) bool array, True for the dead units.
    """
    activations = check_array(activations, "activations")
    if activations.ndim not in (2, 4) or activations.shape[0] == 0:
        raise ValueError(f"activations must have shape (N, F, H, W) or (N, F) with N >= 1, got {activations.shape}")
    threshold = float(threshold)
    dead = None
    # TODO: mark unit f as dead when activations[:, f] (over every image and every
    # position) is never larger than threshold.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    per_unit = np.moveaxis(activations, 1, 0).reshape(activations.shape[1], -1)
    dead = ~np.any(per_unit > threshold, axis=1)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(dead, "dead_filters")


def top_activating_images(activations, unit, k=9):
    """The k images on which one unit of a layer responds most strongly.

    activations: (N, F, H, W) output of a conv or pool layer, or (N, F) of a fully
        connected one. unit: index in [0, F).
    The response of image n is the unit's largest value on it: max over the H x W
    positions of activations[n, unit] for a conv layer, activations[n, unit] for a
    fully connected one.
    k: 1 <= k <= N.
    Returns (indices, responses): indices (k,) int64 of the images with the largest
    responses in decreasing order of response (equal responses: smaller index first),
    and responses (k,) their responses.
    """
    activations = check_array(activations, "activations")
    if activations.ndim not in (2, 4):
        raise ValueError(f"activations must have shape (N, F, H, W) or (N, F), got {activations.shape}")
    N, F = activations.shape[:2]
    unit = check_positive_int(unit, "unit", minimum=0)
    if unit >= F:
        raise ValueError(f"unit must be in [0, {F - 1}], got {unit}")
    k = check_positive_int(k, "k")
    if k > N:
        raise ValueError(f"k must be at most the number of images ({N}), got {k}")
    indices, responses = None, None
    # TODO: compute each image's response (its largest value of the unit), then the k
    # images with the largest responses, largest first; equal responses in increasing
    # order of image index (np.argsort(..., kind="stable") on the negated responses).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    per_image = activations[:, unit].reshape(N, -1).max(axis=1)
    indices = np.argsort(-per_image, kind="stable")[:k].astype(np.int64)
    responses = per_image[indices]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(indices, "top_activating_images"), responses


# ---------------------------------------------------------------------------
# which pixels matter: saliency and occlusion
# ---------------------------------------------------------------------------

def saliency_maps(model, X, y):
    """Saliency of each image for a chosen class (Simonyan et al., 2014).

    X: (N, C, H, W) network input; y: (N,) int class of each image.
    The saliency of pixel (h, w) of image n is the largest absolute value, over the
    C channels, of the derivative of the *unnormalised* class score
    model.loss(X)[n, y[n]] with respect to X[n, c, h, w] (get all of them with one
    call of ``model.backward`` on the "scores" layer).
    Returns saliency: (N, H, W), >= 0.
    """
    X = _check_input(X)
    check_labels(y, "y", len(X), num_classes=getattr(model, "num_classes", None))
    saliency = None
    # TODO: backpropagate a one-hot upstream gradient (1 at each image's class y[n]) from the
    # scores to the input, take absolute values and the maximum over the channel axis.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = X.shape[0]
    scores = model.loss(X)
    dscores = np.zeros_like(scores)
    dscores[np.arange(N), y] = 1.0
    dX = model.backward(X, "scores", dscores)
    saliency = np.abs(dX).max(axis=1)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(saliency, "saliency_maps")


def occlusion_maps(model, X, y, patch_size=6, stride=2, fill=0.0):
    """Probability of the chosen class while a square patch hides part of the image.

    X: (N, C, H, W) network input; y: (N,) int class of each image.
    patch_size: side P of the square patch, 1 <= P <= min(H, W); stride: S >= 1.
    fill: the value the hidden pixels take, in network-input units, in every channel
        (0, the default, is the mean pixel of the training set for a DeepConvNet).
    The patch's top-left corner visits rows i*S for i = 0 .. H' - 1 and columns j*S
    for j = 0 .. W' - 1, with H' = (H - P) // S + 1 and W' = (W - P) // S + 1.
    probs[n, i, j] is the softmax probability of class y[n] (softmax over the scores
    of model.loss) for image n with X[n, :, i*S : i*S + P, j*S : j*S + P] set to fill.
    X is not changed.
    Returns probs: (N, H', W') in [0, 1].
    """
    X = _check_input(X)
    N, C, H, W = X.shape
    check_labels(y, "y", N, num_classes=getattr(model, "num_classes", None))
    P = check_positive_int(patch_size, "patch_size")
    S = check_positive_int(stride, "stride")
    if P > min(H, W):
        raise ValueError(f"patch_size must be at most the image size {H}x{W}, got {P}")
    fill = float(fill)
    Hp, Wp = (H - P) // S + 1, (W - P) // S + 1
    probs = None
    # TODO: for every patch position make a copy of the images with that square set to
    # fill, score the copies, turn the scores into probabilities with a (numerically
    # stable) softmax and keep the probability of each image's own class y[n].
    # Scoring one position at a time (all N images together) is fast enough.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    probs = np.zeros((N, Hp, Wp))
    rows = np.arange(N)
    for i in range(Hp):
        for j in range(Wp):
            occluded = X.copy()
            occluded[:, :, i * S:i * S + P, j * S:j * S + P] = fill
            scores = model.loss(occluded).astype(np.float64)
            scores -= scores.max(axis=1, keepdims=True)
            p = np.exp(scores)
            p /= p.sum(axis=1, keepdims=True)
            probs[:, i, j] = p[rows, y]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(probs, "occlusion_maps")


# ---------------------------------------------------------------------------
# changing the input: fooling images and class visualisation
# ---------------------------------------------------------------------------

def make_fooling_images(model, X, target_y, learning_rate=0.01, max_iters=100, max_change=None, bounds=None):
    """Change images slightly until the model assigns them to a target class (Szegedy et al., 2014).

    X: (N, C, H, W) network input (not changed); target_y: (N,) int target class per image.
    learning_rate: > 0, how much each step changes every pixel; max_iters: int >= 0, the most steps.
    max_change: None, or a number > 0: no entry may move further than this from its value in X.
    bounds: None, or (low, high) numbers: the allowed range of every entry (e.g. the
        network-input values of pixels 0 and 255).
    Gradient ascent on each image's target score along the sign of the gradient (the
    "iterative fast gradient sign method"), each image independently of the others:

        repeat at most max_iters times:
            an image whose highest score (np.argmax of model.loss) is its target is fooled
            and is not changed any more; stop early when every image is fooled;
            every other image n takes the step X[n] += learning_rate * np.sign(g), where g is
            the gradient of its target score model.loss(X)[n, target_y[n]] with respect to
            X[n] (np.sign is 0 where g is 0); then, with max_change, it is clipped to
            [X_original[n] - max_change, X_original[n] + max_change], and then, with bounds,
            to [low, high].

    So after k steps no entry has changed by more than k * learning_rate (nor max_change).
    Images that are still not fooled after max_iters steps come back as they are then.
    Returns X_fooling: (N, C, H, W), same dtype as X.
    """
    X = _check_input(X)
    check_labels(target_y, "target_y", len(X), num_classes=getattr(model, "num_classes", None))
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be a number > 0, got {learning_rate!r}")
    max_iters = check_positive_int(max_iters, "max_iters", minimum=0)
    if max_change is not None and not max_change > 0:
        raise ValueError(f"max_change must be None or a number > 0, got {max_change!r}")
    low, high = _check_bounds(bounds)
    X_fooling = None
    # TODO: start from a copy of X and follow the loop of the docstring. One call of
    # model.loss and one of model.backward (with a one-hot dout) per iteration serve
    # every image at once; leave the fooled images alone.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    X_fooling = X.copy()
    N = X.shape[0]
    rows = np.arange(N)
    for _ in range(max_iters):
        scores = model.loss(X_fooling)
        active = np.argmax(scores, axis=1) != target_y
        if not active.any():
            break
        dscores = np.zeros_like(scores)
        dscores[rows, target_y] = 1.0
        g = model.backward(X_fooling, "scores", dscores)
        updated = X_fooling[active] + learning_rate * np.sign(g[active])
        if max_change is not None:
            updated = np.clip(updated, X[active] - max_change, X[active] + max_change)
        if bounds is not None:
            updated = np.clip(updated, low, high)
        X_fooling[active] = updated
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(X_fooling, "make_fooling_images")


def class_visualization_step(model, X, target_y, learning_rate=1.0, l2_reg=1e-3):
    """One step of regularised gradient ascent on class scores (Simonyan et al., 2014).

    X: (N, C, H, W) current images (network input, not changed); target_y: (N,) int.
    Each image n climbs its objective  J_n(X[n]) = s_n - l2_reg * ||X[n]||^2,  where
    s_n = model.loss(X)[n, target_y[n]] is the unnormalised target score and ||.|| the
    L2 norm over all C*H*W entries. With d the gradient of J_n with respect to X[n],
    the step has length learning_rate along d:  X[n] + learning_rate * d / ||d||
    (d = 0: the image stays as it is).
    learning_rate: > 0; l2_reg: >= 0.
    Returns the new images (N, C, H, W), same dtype as X.
    """
    X = _check_input(X)
    check_labels(target_y, "target_y", len(X), num_classes=getattr(model, "num_classes", None))
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be a number > 0, got {learning_rate!r}")
    l2_reg = check_nonnegative(l2_reg, "l2_reg")
    X_next = None
    # TODO: the gradient of the target scores (model.backward with a one-hot dout) minus
    # the gradient of the L2 penalty, normalised to length learning_rate per image.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N = X.shape[0]
    scores = model.loss(X)
    dscores = np.zeros_like(scores)
    dscores[np.arange(N), target_y] = 1.0
    d = model.backward(X, "scores", dscores).astype(np.float64) - 2.0 * l2_reg * X
    norms = np.sqrt((d.reshape(N, -1) ** 2).sum(axis=1))
    scale = np.where(norms > 0, learning_rate / np.where(norms > 0, norms, 1.0), 0.0)
    X_next = (X + d * scale[:, None, None, None]).astype(X.dtype)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(X_next, "class_visualization_step")


def class_visualization(model, target_y, X_init, num_iterations=100, learning_rate=1.0, l2_reg=1e-3,
                        max_jitter=2, blur_every=10, blur_sigma=0.5, bounds=None, rng=None):
    """Images that the model finds typical of chosen classes: regularised gradient ascent.

    target_y: (N,) int classes; X_init: (N, C, H, W) starting images (e.g. small noise;
    not changed). For t = 1 .. num_iterations (int >= 0), in this order:

    1. draw two integer offsets ox, oy uniformly from [-max_jitter, max_jitter] (one pair
       per iteration, shared by all images) and shift: X = jitter(X, ox, oy);
    2. X = class_visualization_step(model, X, target_y, learning_rate, l2_reg);
    3. shift back: X = jitter(X, -ox, -oy);
    4. with bounds = (low, high): X = np.clip(X, low, high);
    5. if blur_every > 0 and t is a multiple of blur_every: X = blur_image(X, blur_sigma).

    max_jitter: int >= 0. The offsets are the only random part: draw them from rng
    (np.random.Generator, int seed or None) or any source you like; with max_jitter = 0
    there is no randomness and the result is fixed.
    Returns X: (N, C, H, W), same dtype as X_init.
    """
    X_init = _check_input(X_init, "X_init")
    check_labels(target_y, "target_y", len(X_init), num_classes=getattr(model, "num_classes", None))
    num_iterations = check_positive_int(num_iterations, "num_iterations", minimum=0)
    max_jitter = check_positive_int(max_jitter, "max_jitter", minimum=0)
    blur_every = check_positive_int(blur_every, "blur_every", minimum=0)
    low, high = _check_bounds(bounds)
    rng = np.random.default_rng(rng)
    X = None
    # TODO: follow the five steps of the docstring, starting from a copy of X_init. Use the
    # provided jitter and blur_image, and your class_visualization_step.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    X = X_init.copy()
    for t in range(1, num_iterations + 1):
        ox, oy = rng.integers(-max_jitter, max_jitter + 1, size=2)
        X = jitter(X, ox, oy)
        X = class_visualization_step(model, X, target_y, learning_rate, l2_reg)
        X = jitter(X, -ox, -oy)
        if bounds is not None:
            X = np.clip(X, low, high)
        if blur_every > 0 and t % blur_every == 0:
            X = blur_image(X, blur_sigma)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(X, "class_visualization")


# ---------------------------------------------------------------------------
# the space of codes
# ---------------------------------------------------------------------------

def nearest_neighbors(queries, database, k=5):
    """The k database rows closest to each query in Euclidean (L2) distance.

    queries: (Q, D); database: (M, D) with M >= k; k: int >= 1.
    Returns (indices, distances): indices (Q, k) int64, row q listing the database rows
    nearest to queries[q] in increasing order of distance (equal distances: smaller
    index first); distances (Q, k) the matching L2 distances (>= 0).
    A loop over the queries is fine; so is the no-loop trick of the kNN notebook.
    """
    queries = check_array(queries, "queries", ndim=2)
    database = check_array(database, "database", ndim=2, shape=(None, queries.shape[1]))
    k = check_positive_int(k, "k")
    if k > database.shape[0]:
        raise ValueError(f"k must be at most the number of database rows ({database.shape[0]}), got {k}")
    indices, distances = None, None
    # TODO: compute the (Q, M) matrix of distances, sort each row (kind="stable") and keep
    # the first k columns and their distances.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    a = queries.astype(np.float64)
    b = database.astype(np.float64)
    squared = (a ** 2).sum(axis=1)[:, None] - 2.0 * a @ b.T + (b ** 2).sum(axis=1)[None, :]
    all_distances = np.sqrt(np.maximum(squared, 0.0))
    indices = np.argsort(all_distances, axis=1, kind="stable")[:, :k].astype(np.int64)
    distances = np.take_along_axis(all_distances, indices, axis=1)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return implemented(indices, "nearest_neighbors"), distances


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------

def _check_input(X, name="X"):
    """Require network input: a floating-point array (N, C, H, W)."""
    return check_array(X, name, ndim=4, floating=True)


def _check_bounds(bounds):
    if bounds is None:
        return None, None
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be None or a pair (low, high) of numbers, got {bounds!r}") from None
    if not low < high:
        raise ValueError(f"bounds must have low < high, got {bounds!r}")
    return low, high
