"""Network visualisation: known answers on hand-built models, gradient checks, bad input."""
import numpy as np
import pytest

from course_utils.classifiers.deep_conv_net import DeepConvNet
from course_utils.gradient_check import eval_numerical_gradient
from course_utils.net_visualization import (
    blur_image,
    class_visualization,
    class_visualization_step,
    dead_filters,
    gaussian_kernel,
    jitter,
    layer_activations,
    make_fooling_images,
    nearest_neighbors,
    occlusion_maps,
    saliency_maps,
    top_activating_images,
)
from course_utils.vis_utils import images_at_points


class LinearModel:
    """A stand-in with DeepConvNet's methods: scores[n, k] = sum(W[k] * X[n]) + b[k]."""

    def __init__(self, W, b=None):
        self.W = W
        self.b = np.zeros(len(W)) if b is None else b
        self.num_classes = len(W)

    def loss(self, X, y=None):
        return np.einsum("nchw,kchw->nk", X, self.W) + self.b

    def activations(self, X, layer):
        assert layer == "scores"
        return self.loss(X)

    def backward(self, X, layer, dout):
        assert layer == "scores" and dout.shape == (len(X), len(self.W))
        return np.einsum("nk,kchw->nchw", dout, self.W)


def region_net():
    """A DeepConvNet on 1x8x8 images whose score 0 is max(0, largest pixel of the top-left
    4x4 block) and score 1 its negative: every layer copies (identity convolutions, one
    filter), the pools take maxima and fc1 reads only the top-left cell."""
    net = DeepConvNet(input_dim=(1, 8, 8), num_filters=(1, 1), hidden_dim=1, num_classes=2, dtype=np.float64)
    identity = np.zeros((1, 1, 3, 3))
    identity[0, 0, 1, 1] = 1.0
    for k in range(1, 5):
        net.params[f"W{k}"] = identity.copy()
    net.params["W5"] = np.array([[1.0], [0.0], [0.0], [0.0]])
    net.params["W6"] = np.array([[1.0, -1.0]])
    return net


def region_images():
    """Two images: all pixels negative except one of the top-left block (and one far away)."""
    X = -np.ones((2, 1, 8, 8))
    X[0, 0, 1, 2] = 2.0
    X[1, 0, 3, 0] = 0.5
    X[:, 0, 6, 6] = 5.0  # outside the block: must not matter
    return X


def small_net(seed=0, channels=2):
    return DeepConvNet(input_dim=(channels, 8, 8), num_filters=(3, 4), hidden_dim=6, num_classes=3,
                       dtype=np.float64, seed=seed)


# ------------------------------------------------------------------ activations

def test_dead_filters_conv_and_fc():
    acts = np.zeros((3, 4, 2, 2))
    acts[1, 0, 1, 1] = 0.5      # unit 0 fires once
    acts[:, 2] = 1.0            # unit 2 always
    acts[2, 3, 0, 0] = 1e-3     # unit 3 barely
    np.testing.assert_array_equal(dead_filters(acts), [False, True, False, False])
    np.testing.assert_array_equal(dead_filters(acts, threshold=0.01), [False, True, False, True])
    fc = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -2.0]])
    np.testing.assert_array_equal(dead_filters(fc), [True, False, True])
    with pytest.raises(ValueError, match="activations must have shape"):
        dead_filters(np.zeros((2, 3, 4)))


def test_top_activating_images_order_and_ties():
    acts = np.zeros((5, 2, 2, 2))
    acts[0, 1, 0, 0] = 3.0
    acts[2, 1, 1, 1] = 7.0
    acts[3, 1, 0, 1] = 3.0     # tie with image 0: the smaller index first
    acts[4, 0] = 9.0           # another unit: ignored
    indices, responses = top_activating_images(acts, unit=1, k=3)
    np.testing.assert_array_equal(indices, [2, 0, 3])
    np.testing.assert_allclose(responses, [7.0, 3.0, 3.0])
    indices, responses = top_activating_images(acts[:, :, 0, 0], unit=1, k=2)   # fc layer: the value itself
    np.testing.assert_array_equal(indices, [0, 1])
    np.testing.assert_allclose(responses, [3.0, 0.0])
    with pytest.raises(ValueError, match="unit must be in"):
        top_activating_images(acts, unit=2)
    with pytest.raises(ValueError, match="k must be at most"):
        top_activating_images(acts, unit=0, k=6)


def test_layer_activations_batches_match_one_call():
    net = small_net()
    X = np.random.default_rng(1).normal(size=(7, 2, 8, 8))
    for layer in ("conv2", "fc1"):
        np.testing.assert_allclose(layer_activations(net, X, layer, batch_size=3), net.activations(X, layer))


# ------------------------------------------------------------------ saliency

def test_saliency_of_a_linear_model_is_the_largest_weight_magnitude():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(3, 2, 4, 5))
    X, y = rng.normal(size=(4, 2, 4, 5)), np.array([0, 2, 1, 2])
    np.testing.assert_allclose(saliency_maps(LinearModel(W), X, y), np.abs(W[y]).max(axis=1))


def test_saliency_of_the_region_net_marks_the_winning_pixel():
    net, X = region_net(), region_images()
    for cls in (0, 1):     # score 1 = -score 0: the same saliency
        sal = saliency_maps(net, X, np.array([cls, cls]))
        expected = np.zeros((2, 8, 8))
        expected[0, 1, 2] = expected[1, 3, 0] = 1.0
        np.testing.assert_allclose(sal, expected)


def test_saliency_matches_a_numeric_gradient():
    net = small_net(seed=3)
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(2, 2, 8, 8)), np.array([1, 2])
    sal = saliency_maps(net, X, y)
    assert sal.shape == (2, 8, 8) and np.all(sal >= 0)
    for n in range(2):
        def score(_):
            return net.loss(X[n:n + 1])[0, y[n]]
        numeric = eval_numerical_gradient(score, X[n:n + 1], verbose=False)
        np.testing.assert_allclose(sal[n], np.abs(numeric[0]).max(axis=0), rtol=1e-5, atol=1e-8)


# ------------------------------------------------------------------ occlusion

def test_occlusion_of_the_region_net():
    net, X = region_net(), region_images()
    probs = occlusion_maps(net, X, np.array([0, 1]), patch_size=2, stride=2, fill=0.0)
    assert probs.shape == (2, 4, 4)
    sigmoid = lambda t: 1 / (1 + np.exp(-t))
    # image 0 (class 0): score 0 is 2 unless the patch hides pixel (1, 2), then 0
    expected0 = np.full((4, 4), sigmoid(4.0))
    expected0[0, 1] = 0.5
    # image 1 (class 1): score 1 is -0.5 unless the patch hides pixel (3, 0)
    expected1 = np.full((4, 4), sigmoid(-1.0))
    expected1[1, 0] = 0.5
    np.testing.assert_allclose(probs[0], expected0)
    np.testing.assert_allclose(probs[1], expected1)
    # a patch of 3 with stride 1: positions 0..5, the hiding ones are rows 0-1 and columns 0-2
    probs = occlusion_maps(net, X[:1], np.array([0]), patch_size=3, stride=1)
    assert probs.shape == (1, 6, 6)
    hides = np.zeros((6, 6), dtype=bool)
    hides[0:2, 0:3] = True
    np.testing.assert_allclose(probs[0], np.where(hides, 0.5, sigmoid(4.0)))


def test_occlusion_of_a_linear_model_and_the_fill_value():
    rng = np.random.default_rng(5)
    W, b = rng.normal(size=(3, 2, 5, 5)), rng.normal(size=3)
    X, y = rng.normal(size=(2, 2, 5, 5)), np.array([2, 0])
    X_before = X.copy()
    probs = occlusion_maps(LinearModel(W, b), X, y, patch_size=3, stride=2, fill=0.7)
    np.testing.assert_array_equal(X, X_before)
    assert probs.shape == (2, 2, 2)
    for i in range(2):
        for j in range(2):
            hidden = X.copy()
            hidden[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3] = 0.7
            s = np.einsum("nchw,kchw->nk", hidden, W) + b
            p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
            np.testing.assert_allclose(probs[:, i, j], p[[0, 1], y], rtol=1e-10)


def test_occlusion_is_stable_for_large_scores():
    W = np.zeros((2, 1, 4, 4))
    W[0] = 1000.0
    probs = occlusion_maps(LinearModel(W), np.ones((1, 1, 4, 4)), np.array([1]), patch_size=2, stride=2)
    assert np.all(np.isfinite(probs)) and np.all(probs < 1e-100)


# ------------------------------------------------------------------ fooling

def test_fooling_a_linear_model_takes_the_fewest_equal_steps():
    rng = np.random.default_rng(6)
    W = rng.normal(size=(3, 1, 4, 4))
    model = LinearModel(W)
    X = rng.normal(size=(3, 1, 4, 4))
    pred = model.loss(X).argmax(axis=1)
    target = (pred + 1) % 3
    target[2] = pred[2]                     # already "fooled": left alone
    lr = 0.3
    X_fool = make_fooling_images(model, X, target, learning_rate=lr, max_iters=200)
    assert X_fool.shape == X.shape and X_fool.dtype == X.dtype
    np.testing.assert_array_equal(model.loss(X_fool).argmax(axis=1), target)
    np.testing.assert_array_equal(X_fool[2], X[2])
    for n in range(2):    # every step is lr * sign(W[t]): the fewest steps that fool
        direction = np.sign(W[target[n]])
        steps = next(k for k in range(1, 200)
                     if model.loss(X[n:n + 1] + k * lr * direction).argmax() == target[n])
        np.testing.assert_allclose(X_fool[n], X[n] + steps * lr * direction, rtol=1e-10, atol=1e-12)


def test_fooling_respects_bounds_and_max_iters():
    rng = np.random.default_rng(7)
    W = rng.normal(size=(2, 1, 4, 4))
    model = LinearModel(W, b=np.array([100.0, 0.0]))   # class 1 is out of reach in 3 steps
    X = rng.uniform(-0.5, 0.5, size=(2, 1, 4, 4))
    X_fool = make_fooling_images(model, X, np.array([1, 1]), learning_rate=0.5, max_iters=3, bounds=(-1, 1))
    assert X_fool.min() >= -1 and X_fool.max() <= 1
    assert np.all(model.loss(X_fool).argmax(axis=1) == 0)
    assert np.abs(X_fool - X).max() <= 1.5 + 1e-9
    capped = make_fooling_images(model, X, np.array([1, 1]), learning_rate=0.5, max_iters=3, max_change=0.7)
    np.testing.assert_allclose(np.abs(capped - X), 0.7)       # 0.5, then capped at 0.7 (no zero weights)
    with pytest.raises(ValueError, match="max_change"):
        make_fooling_images(model, X, np.array([1, 1]), max_change=0)
    np.testing.assert_array_equal(make_fooling_images(model, X, np.array([1, 1]), max_iters=0), X)
    with pytest.raises(ValueError, match="bounds"):
        make_fooling_images(model, X, np.array([1, 1]), bounds=(1, -1))
    with pytest.raises(ValueError, match="learning_rate"):
        make_fooling_images(model, X, np.array([1, 1]), learning_rate=0)
    with pytest.raises(ValueError, match="target_y"):
        make_fooling_images(model, X, np.array([1, 2]))


def test_fooling_the_small_net():
    net = small_net(seed=8)
    X = np.random.default_rng(9).normal(size=(4, 2, 8, 8))
    target = (net.loss(X).argmax(axis=1) + 1) % 3
    X_fool = make_fooling_images(net, X, target, learning_rate=0.05, max_iters=300)
    np.testing.assert_array_equal(net.loss(X_fool).argmax(axis=1), target)


# ------------------------------------------------------------------ class visualisation

def test_class_visualization_step_of_a_linear_model():
    rng = np.random.default_rng(10)
    W = rng.normal(size=(3, 1, 4, 4))
    X, y = rng.normal(size=(2, 1, 4, 4)), np.array([2, 0])
    out = class_visualization_step(LinearModel(W), X, y, learning_rate=0.25, l2_reg=0.1)
    d = W[y] - 0.2 * X
    d /= np.linalg.norm(d.reshape(2, -1), axis=1)[:, None, None, None]
    np.testing.assert_allclose(out, X + 0.25 * d)


def test_class_visualization_step_raises_the_objective():
    net = small_net(seed=11)
    X, y = 0.1 * np.random.default_rng(12).normal(size=(3, 2, 8, 8)), np.array([0, 1, 2])

    def objective(images):
        return net.loss(images)[[0, 1, 2], y] - 0.01 * (images.reshape(3, -1) ** 2).sum(axis=1)

    out = class_visualization_step(net, X, y, learning_rate=1e-3, l2_reg=0.01)
    np.testing.assert_allclose(np.linalg.norm((out - X).reshape(3, -1), axis=1), 1e-3)
    assert np.all(objective(out) > objective(X))


def test_class_visualization_without_jitter_is_the_documented_loop():
    net = small_net(seed=13)
    X0, y = 0.1 * np.random.default_rng(14).normal(size=(2, 2, 8, 8)), np.array([1, 0])
    out = class_visualization(net, y, X0, num_iterations=5, learning_rate=0.5, l2_reg=0.01, max_jitter=0,
                              blur_every=2, blur_sigma=0.6, bounds=(-2, 2))
    X = X0.copy()
    for t in range(1, 6):
        X = np.clip(class_visualization_step(net, X, y, 0.5, 0.01), -2, 2)
        if t % 2 == 0:
            X = blur_image(X, 0.6)
    np.testing.assert_allclose(out, X)
    np.testing.assert_array_equal(class_visualization(net, y, X0, num_iterations=0), X0)


def test_class_visualization_with_jitter_raises_the_target_scores():
    net = small_net(seed=15)
    X0, y = 0.1 * np.random.default_rng(16).normal(size=(3, 2, 8, 8)), np.array([0, 1, 2])
    out = class_visualization(net, y, X0, num_iterations=30, learning_rate=0.3, max_jitter=1, blur_every=5, rng=0)
    assert out.shape == X0.shape
    rows = np.arange(3)
    assert np.all(net.loss(out)[rows, y] > net.loss(X0)[rows, y] + 0.25)


def test_jitter_and_blur_helpers():
    X = np.arange(2 * 1 * 3 * 4, dtype=float).reshape(2, 1, 3, 4)
    shifted = jitter(X, 1, 2)
    assert shifted[0, 0, 2, 1] == X[0, 0, 0, 0]
    np.testing.assert_array_equal(jitter(shifted, -1, -2), X)
    k = gaussian_kernel(1.0)
    assert len(k) == 7 and abs(k.sum() - 1) < 1e-12 and np.allclose(k, k[::-1])
    impulse = np.zeros((1, 1, 9, 9))
    impulse[0, 0, 4, 4] = 1.0
    blurred = blur_image(impulse, 1.0)
    np.testing.assert_allclose(blurred[0, 0], np.pad(np.outer(k, k), 1), atol=1e-15)   # the kernel itself
    np.testing.assert_allclose(blur_image(np.full((1, 2, 5, 5), 3.0), 0.8), 3.0)   # constants stay
    np.testing.assert_array_equal(blur_image(X, 0.0), X)
    with pytest.raises(ValueError, match="larger than"):
        blur_image(np.zeros((1, 1, 3, 3)), 2.0)


# ------------------------------------------------------------------ codes and neighbours

def test_nearest_neighbors_order_ties_and_distances():
    database = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0], [0.0, 1.0], [10.0, 0.0]])
    queries = np.array([[0.0, 0.0], [3.0, 3.0]])
    indices, distances = nearest_neighbors(queries, database, k=3)
    np.testing.assert_array_equal(indices, [[0, 2, 3], [1, 2, 3]])      # 2 and 3 tie: smaller index first
    np.testing.assert_allclose(distances, [[0, 1, 1], [1, np.sqrt(13), np.sqrt(13)]])
    rng = np.random.default_rng(16)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(20, 5))
    indices, distances = nearest_neighbors(a, b, k=4)
    full = np.linalg.norm(a[:, None] - b[None], axis=2)
    np.testing.assert_array_equal(indices, np.argsort(full, axis=1)[:, :4])
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :4], rtol=1e-10)
    with pytest.raises(ValueError, match="k must be at most"):
        nearest_neighbors(a, b, k=21)
    with pytest.raises(ValueError, match="database must have shape"):
        nearest_neighbors(a, b[:, :3])


def test_images_at_points_places_thumbnails():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    images = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2, 1)
    canvas = images_at_points(points, images, canvas_size=6, background=-1)
    assert canvas.shape == (6, 6, 1)
    np.testing.assert_array_equal(canvas[4:, :2, 0], images[0, :, :, 0])     # bottom left
    np.testing.assert_array_equal(canvas[:2, 4:, 0], images[1, :, :, 0])     # top right
    np.testing.assert_array_equal(canvas[4:, 4:, 0], images[2, :, :, 0])     # bottom right
    assert np.sum(canvas == -1) == 36 - 12
    with pytest.raises(ValueError, match="points must have shape"):
        images_at_points(points[:2], images)
    with pytest.raises(ValueError, match="canvas_size must be larger"):
        images_at_points(points, images, canvas_size=2)


# ------------------------------------------------------------------ bad input

def test_bad_input():
    net = small_net()
    X = np.zeros((2, 2, 8, 8))
    with pytest.raises(ValueError, match="X must have 4 dimensions"):
        saliency_maps(net, np.zeros((2, 8, 8)), np.array([0, 1]))
    with pytest.raises(ValueError, match="floating-point"):
        saliency_maps(net, np.zeros((2, 2, 8, 8), dtype=int), np.array([0, 1]))
    with pytest.raises(ValueError, match="y must hold labels"):
        saliency_maps(net, X, np.array([0, 3]))
    with pytest.raises(ValueError, match="patch_size must be at most"):
        occlusion_maps(net, X, np.array([0, 1]), patch_size=9)
    with pytest.raises(ValueError, match="stride must be an integer"):
        occlusion_maps(net, X, np.array([0, 1]), stride=0)
    with pytest.raises(ValueError, match="l2_reg must be a number"):
        class_visualization_step(net, X, np.array([0, 1]), l2_reg=-1)
    with pytest.raises(ValueError, match="X_init must have"):
        class_visualization(net, np.array([0]), np.zeros((1, 8, 8)))
