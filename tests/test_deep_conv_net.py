"""DeepConvNet: parameter and input gradients against numeric ones, a hand-built network with
known outputs, activations of every named layer, pre/deprocessing and clear errors."""
import numpy as np
import pytest

from course_utils.classifiers.deep_conv_net import LAYERS, DeepConvNet
from course_utils.gradient_check import eval_numerical_gradient
from course_utils.solver import Solver


def assert_gradient_close(numeric, analytic):
    """Every entry within 1e-6 of the largest one (near-zero entries are not judged relatively:
    a unit at a ReLU kink moves them by float noise)."""
    assert numeric.shape == analytic.shape
    scale = np.max(np.abs(numeric))
    assert scale > 0
    assert np.max(np.abs(numeric - analytic)) < 1e-6 * scale


def small_net(reg=0.0, seed=0):
    return DeepConvNet(input_dim=(2, 8, 8), num_filters=(3, 4), hidden_dim=5, num_classes=3,
                       reg=reg, dtype=np.float64, seed=seed)


def inputs(N=2, seed=1):
    return np.random.default_rng(seed).standard_normal((N, 2, 8, 8))


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_parameter_gradients_match_numeric(reg):
    net = small_net(reg)
    for name in net.params:
        net.params[name] = net.params[name] + 0.05 * (name.startswith("b"))
    X, y = inputs(), np.array([0, 2])
    _, grads = net.loss(X, y)
    assert set(grads) == set(net.params)
    for name, value in net.params.items():
        numeric = eval_numerical_gradient(lambda _: net.loss(X, y)[0], value, verbose=False, h=1e-6)
        assert_gradient_close(numeric, grads[name])


@pytest.mark.parametrize("layer", LAYERS)
def test_input_gradient_of_every_layer_matches_numeric(layer):
    net = small_net(seed=3)
    X = inputs(seed=4)
    out = net.activations(X, layer)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    dX = net.backward(X, layer, dout)
    numeric = eval_numerical_gradient(lambda Z: float(np.sum(dout * net.activations(Z, layer))), X.copy(),
                                      verbose=False, h=1e-6)
    assert_gradient_close(numeric, dX)


def test_class_score_gradient_is_backward_of_one_hot():
    net = small_net(seed=6)
    X = inputs(N=3, seed=7)
    y = np.array([2, 0, 1])
    onehot = np.eye(3)[y]
    dX = net.backward(X, "scores", onehot)
    for i in range(3):
        numeric = eval_numerical_gradient(lambda Z: float(net.loss(Z[None])[0, y[i]]), X[i].copy(),
                                          verbose=False, h=1e-6)
        assert_gradient_close(numeric, dX[i])


def identity_net():
    """One channel everywhere, each conv a centred delta kernel, fc1 the identity, scores = (sum, -sum)."""
    net = DeepConvNet(input_dim=(1, 8, 8), num_filters=(1, 1), hidden_dim=4, num_classes=2, dtype=np.float64)
    delta = np.zeros((1, 1, 3, 3))
    delta[0, 0, 1, 1] = 1.0
    for k in range(1, 5):
        net.params[f"W{k}"] = delta.copy()
        net.params[f"b{k}"] = np.zeros(1)
    net.params["W5"], net.params["b5"] = np.eye(4), np.zeros(4)
    net.params["W6"], net.params["b6"] = np.array([[1.0, -1.0]] * 4), np.array([0.5, 0.0])
    return net


def test_hand_built_network_gives_known_values():
    net = identity_net()
    x = np.arange(64, dtype=float).reshape(1, 1, 8, 8) - 20.0
    relu = np.maximum(x, 0)
    pooled = relu.reshape(1, 1, 2, 4, 2, 4).max(axis=(3, 5))   # two 2x2 pools = one 4x4 pool
    pool1 = relu.reshape(1, 1, 4, 2, 4, 2).max(axis=(3, 5))
    assert np.allclose(net.activations(x, "conv1"), relu)
    assert np.allclose(net.activations(x, "conv2"), relu)
    assert np.allclose(net.activations(x, "pool1"), pool1)
    assert np.allclose(net.activations(x, "conv4"), pool1)
    assert np.allclose(net.activations(x, "pool2"), pooled)
    assert np.allclose(net.activations(x, "fc1"), pooled.reshape(1, 4))
    assert np.allclose(net.loss(x), [[pooled.sum() + 0.5, -pooled.sum()]])
    # The score depends on the four window maxima only: the input gradient is 1 there, 0 elsewhere.
    grad = net.backward(x, "scores", np.array([[1.0, 0.0]]))
    expected = np.zeros((8, 8))
    expected[[3, 3, 7, 7], [3, 7, 3, 7]] = 1.0
    assert np.array_equal(grad[0, 0], expected)


def test_loss_adds_half_reg_times_squared_weights():
    net = small_net(reg=0.0, seed=8)
    X, y = inputs(), np.array([1, 1])
    plain, _ = net.loss(X, y)
    net.reg = 0.7
    regularised, _ = net.loss(X, y)
    squares = sum(float(np.sum(net.params[f"W{k}"] ** 2)) for k in range(1, 7))
    assert regularised == pytest.approx(plain + 0.35 * squares, rel=1e-12)


def test_initialisation_shapes_and_he_scale():
    net = DeepConvNet(input_dim=(1, 28, 28), num_filters=(16, 32), hidden_dim=128, num_classes=10, seed=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (16, 1, 3, 3), "b1": (16,), "W2": (16, 16, 3, 3), "b2": (16,),
                      "W3": (32, 16, 3, 3), "b3": (32,), "W4": (32, 32, 3, 3), "b4": (32,),
                      "W5": (32 * 7 * 7, 128), "b5": (128,), "W6": (128, 10), "b6": (10,)}
    assert all(v.dtype == np.float32 for v in net.params.values())
    assert np.std(net.params["W5"]) == pytest.approx(np.sqrt(2 / (32 * 7 * 7)), rel=0.02)
    assert np.std(net.params["W2"]) == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert not np.any(net.params["b3"])


def test_preprocess_and_deprocess_round_trip():
    net = DeepConvNet(input_dim=(3, 4, 4), num_filters=(2, 2), hidden_dim=3, num_classes=2,
                      mean=[0.2, 0.4, 0.6], std=[0.5, 0.25, 0.1], dtype=np.float64)
    images = np.random.default_rng(0).uniform(0, 255, size=(2, 4, 4, 3))
    X = net.preprocess(images)
    assert X.shape == (2, 3, 4, 4)
    assert np.allclose(X[:, 1], (images[..., 1] / 255 - 0.4) / 0.25)
    assert np.allclose(net.deprocess(X), images)
    assert net.deprocess(X * 100).max() == 255.0


def test_trains_with_the_solver():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 1, 8, 8))
    y = (X[:, 0, :4].sum(axis=(1, 2)) > X[:, 0, 4:].sum(axis=(1, 2))).astype(int)
    net = DeepConvNet(input_dim=(1, 8, 8), num_filters=(4, 4), hidden_dim=8, num_classes=2, seed=0)
    solver = Solver(net, {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, update_rule="adam",
                    optim_config={"learning_rate": 3e-3}, batch_size=20, num_epochs=15, verbose=False, seed=0)
    solver.train()
    assert solver.check_accuracy(X, y) >= 0.9


def test_bad_input_is_refused_clearly():
    net = small_net()
    with pytest.raises(ValueError, match="unknown layer 'fc2'"):
        net.activations(inputs(), "fc2")
    with pytest.raises(ValueError, match=r"X must have shape"):
        net.loss(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match="dout"):
        net.backward(inputs(), "scores", np.zeros((2, 4)))
    with pytest.raises(ValueError, match="multiples of 4"):
        DeepConvNet(input_dim=(1, 10, 10))
    with pytest.raises(ValueError, match="channel"):
        net.preprocess(np.zeros((1, 8, 8, 3)))


def test_dropout_only_in_training_and_its_gradient():
    net = DeepConvNet(input_dim=(2, 8, 8), num_filters=(3, 4), hidden_dim=6, num_classes=3,
                      dtype=np.float64, seed=0, dropout_keep_ratio=0.5)
    X, y = inputs(N=3), np.array([0, 1, 2])
    scores = net.loss(X)
    assert np.array_equal(net.loss(X), scores)           # no dropout outside training
    assert np.array_equal(net.activations(X, "fc1"), net.activations(X, "fc1"))

    def loss_with_fixed_mask(_=None):
        net._dropout_rng = np.random.default_rng(9)       # the same mask on every call
        return net.loss(X, y)

    loss, grads = loss_with_fixed_mask()
    assert loss != pytest.approx(net.loss(X, y)[0])      # a new mask gives another loss
    for name in ("W5", "b5", "W2"):
        numeric = eval_numerical_gradient(lambda _: loss_with_fixed_mask()[0], net.params[name],
                                          verbose=False, h=1e-6)
        assert_gradient_close(numeric, grads[name])
    # about half the hidden units are dropped, the kept ones scaled by 2
    net._dropout_rng = np.random.default_rng(1)
    hidden, _ = net._forward(np.repeat(X[:1], 400, axis=0), "fc1", train=True)
    full = net.activations(X[:1], "fc1")[0]
    live = full > 0
    kept = hidden[:, live] > 0
    assert 0.45 < kept.mean() < 0.55
    assert np.allclose(hidden[:, live][kept], np.broadcast_to(2 * full[live], kept.shape)[kept])
    with pytest.raises(ValueError, match="dropout_keep_ratio"):
        DeepConvNet(dropout_keep_ratio=0)
