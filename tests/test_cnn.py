"""ThreeLayerConvNet: shapes, a hand-computed network, gradient check, training."""
import numpy as np
import pytest
from sklearn.datasets import load_digits

from course_utils.classifiers.cnn import ThreeLayerConvNet
from course_utils.gradient_check import eval_numerical_gradient, rel_error
from course_utils.solver import Solver


@pytest.mark.parametrize(
    "input_dim, filter_size, pooled",
    [((3, 32, 32), 7, 16 * 16), ((1, 28, 28), 5, 14 * 14), ((1, 8, 8), 3, 4 * 4),
     ((1, 8, 8), 4, 3 * 3), ((2, 7, 9), 3, 3 * 4)],
)
def test_parameter_shapes_follow_input(input_dim, filter_size, pooled):
    model = ThreeLayerConvNet(input_dim=input_dim, num_filters=4, filter_size=filter_size,
                              hidden_dim=6, num_classes=3, seed=0)
    C = input_dim[0]
    expected = {"W1": (4, C, filter_size, filter_size), "b1": (4,), "W2": (4 * pooled, 6),
                "b2": (6,), "W3": (6, 3), "b3": (3,)}
    assert {k: v.shape for k, v in model.params.items()} == expected
    assert all(v.dtype == np.float32 for v in model.params.values())
    X = np.zeros((2, *input_dim), dtype=np.float32)
    assert model.loss(X).shape == (2, 3)


def test_hand_set_network():
    # 1x1 filter, so no padding: conv 2x - 1 on [[1, 0], [3, 0.5]] gives
    # [[1, -1], [5, 0]]; relu and the 2x2 pool keep 5. Hidden: 5 * [1, -1] + [0, 1]
    # = [5, -4] -> relu [5, 0]. Scores: 5 * [0.2, -0.2] = [1, -1].
    model = ThreeLayerConvNet(input_dim=(1, 2, 2), num_filters=1, filter_size=1, hidden_dim=2,
                              num_classes=2, reg=0.1, dtype=np.float64)
    model.params = {
        "W1": np.array([[[[2.0]]]]), "b1": np.array([-1.0]),
        "W2": np.array([[1.0, -1.0]]), "b2": np.array([0.0, 1.0]),
        "W3": np.array([[0.2, -0.2], [1.0, 1.0]]), "b3": np.array([0.0, 0.0]),
    }
    X = np.array([[[[1.0, 0.0], [3.0, 0.5]]]])
    np.testing.assert_allclose(model.loss(X), [[1.0, -1.0]], atol=1e-15)
    # reg term: 0.5 * 0.1 * (4 + 2 + 0.08 + 2) = 0.404
    loss, grads = model.loss(X, np.array([0]))
    assert loss == pytest.approx(np.log1p(np.exp(-2.0)) + 0.404, rel=1e-12)
    # dscores = [p0 - 1, p1] = [-s, s] with s = sigmoid(-2); only the hidden unit 0 is on
    s = 1.0 / (1.0 + np.exp(2.0))
    np.testing.assert_allclose(grads["b3"], [-s, s], rtol=1e-12)
    np.testing.assert_allclose(grads["b2"], [-0.4 * s, 0.0], atol=1e-15)
    np.testing.assert_allclose(grads["b1"], [-0.4 * s], rtol=1e-12)


def test_initial_loss_and_regularization():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3, 16, 16))
    y = np.arange(20) % 10
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, seed=0)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(np.log(10), abs=1e-3)
    reg_model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, reg=3.0, seed=0)
    reg_model.params = {k: v.copy() for k, v in model.params.items()}  # the same weights, whatever the source
    reg_loss, _ = reg_model.loss(X, y)
    penalty = 0.5 * 3.0 * sum(np.sum(model.params[w].astype(np.float64) ** 2) for w in ("W1", "W2", "W3"))
    assert reg_loss - loss == pytest.approx(penalty, rel=1e-4)


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_gradients_tiny_input(reg):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 2, 6, 6))
    y = np.array([1, 3])
    model = ThreeLayerConvNet(input_dim=(2, 6, 6), num_filters=3, filter_size=3, hidden_dim=5,
                              num_classes=4, weight_scale=0.5, reg=reg, dtype=np.float64, seed=2)
    # move the biases off zero so no unit sits exactly on a ReLU kink
    for name in ("b1", "b2", "b3"):
        model.params[name] += 0.1 * rng.standard_normal(model.params[name].shape)
    loss, grads = model.loss(X, y)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param, verbose=False, h=1e-6)
        assert rel_error(numeric, grads[name]) < 1e-4, name


def test_overfits_small_digits_set():
    X, y = load_digits(return_X_y=True)
    X = (X[:50] / 16.0).reshape(50, 1, 8, 8)
    data = {"X_train": X, "y_train": y[:50], "X_val": X, "y_val": y[:50]}
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=8, filter_size=3, hidden_dim=50,
                              weight_scale=1e-1, seed=0)
    # plain SGD (given code): the update rules are exercises of their own
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 3e-1},
                    batch_size=25, num_epochs=60, num_train_samples=None, verbose=False, seed=0)
    solver.train()
    assert solver.best_val_acc == 1.0
    assert solver.check_accuracy(X, y[:50]) == 1.0


def test_bad_arguments():
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=2, filter_size=3, hidden_dim=4)
    with pytest.raises(ValueError, match=r"X must have shape \(any, 1, 8, 8\), got shape \(2, 8, 8\)"):
        model.loss(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match=r"X must have shape \(any, 1, 8, 8\), got \(2, 3, 8, 8\)"):
        model.loss(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"input_dim must be \(C, H, W\)"):
        ThreeLayerConvNet(input_dim=(8, 8))
    # an even filter without exact 'same' padding: 2x2 -> conv 1x1, too small to pool
    with pytest.raises(ValueError, match="filter height 2 is larger than the padded input height 1"):
        ThreeLayerConvNet(input_dim=(1, 2, 2), filter_size=2)
    with pytest.raises(ValueError, match="filter height 2 is larger than the padded input height 1"):
        ThreeLayerConvNet(input_dim=(1, 1, 1), filter_size=1)
