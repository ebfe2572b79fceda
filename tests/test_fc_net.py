"""TwoLayerNet and FullyConnectedNet: hand-computed values, gradient checks, training."""
import numpy as np
import pytest
from sklearn.datasets import load_digits

from course_utils.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from course_utils.gradient_check import eval_numerical_gradient, rel_error
from course_utils.solver import Solver
from hand_net import HAND_PARAMS, HAND_X, HAND_Y


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def check_gradients(model, X, y, tol):
    """Compare every analytic gradient with centred differences.

    The biases are first moved off zero: with zero biases a unit whose inputs
    are all zero (e.g. every unit before it dropped out) sits exactly on the
    ReLU kink, where centred differences are meaningless. Gradients that are
    exactly zero (a bias before batch norm) are compared with an absolute
    tolerance.
    """
    rng = np.random.default_rng(0)
    for name, param in model.params.items():
        if name.startswith("b") and not name.startswith("beta"):
            param += 0.1 * rng.standard_normal(param.shape)
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, param in model.params.items():
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], param, verbose=False, h=1e-6)
        assert grads[name].shape == param.shape
        if np.abs(numeric).max() > 1e-6:
            assert rel_error(numeric, grads[name]) < tol, name
        np.testing.assert_allclose(grads[name], numeric, rtol=0, atol=1e-8, err_msg=name)
    return loss


def test_two_layer_hand_values():
    # hidden pre-activations: x1 -> [3, -1] + [0, 1] = [3, 0]; x2 -> [3, 1] + [0, 1] = [3, 2]
    # scores: [3, 0] -> [1.5, 0] + [0, -1] = [1.5, -1]; [3, 2] -> [-0.5, 2] + [0, -1] = [-0.5, 1]
    model = TwoLayerNet(input_dim=2, hidden_dim=2, num_classes=2, reg=0.1)
    model.params = {k: v.copy() for k, v in HAND_PARAMS.items()}
    np.testing.assert_allclose(model.loss(HAND_X), [[1.5, -1.0], [-0.5, 1.0]], atol=1e-15)
    # correct-class margins 2.5 and 1.5; reg term 0.5 * 0.1 * (6 + 2.25)
    loss, grads = model.loss(HAND_X, HAND_Y)
    expected = 0.5 * (np.log1p(np.exp(-2.5)) + np.log1p(np.exp(-1.5))) + 0.4125
    assert loss == pytest.approx(expected, rel=1e-12)
    # db2 = mean(p - onehot(y)) = 0.5 * [sigmoid(-1.5) - sigmoid(-2.5), sigmoid(-2.5) - sigmoid(-1.5)]
    d = 0.5 * (sigmoid(-1.5) - sigmoid(-2.5))
    np.testing.assert_allclose(grads["b2"], [d, -d], rtol=1e-12)
    # the second hidden unit of x1 is 0 (off), so db1[1] only gets x2's share:
    # dscores(x2) = 0.5 * [sigmoid(-1.5), -sigmoid(-1.5)] and W2[1] = [-1, 1]
    np.testing.assert_allclose(grads["b1"][1], 0.5 * (-2 * sigmoid(-1.5)), rtol=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_gradients(reg):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 2, 3))
    y = np.array([0, 2, 1, 2])
    model = TwoLayerNet(input_dim=6, hidden_dim=5, num_classes=3, weight_scale=0.5, reg=reg, seed=0)
    check_gradients(model, X, y, tol=1e-4)


def test_two_layer_init_and_initial_loss():
    model = TwoLayerNet(input_dim=300, hidden_dim=200, num_classes=10, weight_scale=1e-3, seed=0)
    assert model.params["W1"].shape == (300, 200) and model.params["W2"].shape == (200, 10)
    assert abs(model.params["W1"].std() - 1e-3) < 1e-4
    assert not model.params["b1"].any() and not model.params["b2"].any()
    X = np.random.default_rng(2).standard_normal((50, 300))
    y = np.arange(50) % 10
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(np.log(10), abs=1e-3)


def test_two_layer_bad_input():
    model = TwoLayerNet(input_dim=6, hidden_dim=4, num_classes=3)
    with pytest.raises(ValueError, match=r"X must have shape \(N, \.\.\.\) with 6 values per example, got \(2, 5\)"):
        model.loss(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"labels in \[0, 2\]"):
        model.loss(np.zeros((2, 6)), np.array([0, 3]))
    with pytest.raises(ValueError, match="hidden_dim must be an integer >= 1"):
        TwoLayerNet(hidden_dim=0)
    with pytest.raises(ValueError, match="reg must be a number >= 0"):
        TwoLayerNet(reg=-1.0)


def test_two_layer_trains_on_digits():
    X, y = load_digits(return_X_y=True)
    data = {"X_train": X[:200] / 16.0, "y_train": y[:200], "X_val": X[200:400] / 16.0, "y_val": y[200:400]}
    model = TwoLayerNet(input_dim=64, hidden_dim=50, num_classes=10, weight_scale=1e-1, seed=0)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-2},
                    batch_size=50, num_epochs=30, num_train_samples=None, verbose=False, seed=0)
    solver.train()
    assert solver.train_acc_history[-1] >= 0.98  # any initial weights, not just the kit's stream
    assert solver.best_val_acc > 0.9


def test_fc_matches_two_layer_hand_values():
    model = FullyConnectedNet([2], input_dim=2, num_classes=2, reg=0.1, dtype=np.float64)
    model.params = {k: v.copy() for k, v in HAND_PARAMS.items()}
    np.testing.assert_allclose(model.loss(HAND_X), [[1.5, -1.0], [-0.5, 1.0]], atol=1e-15)
    loss, _ = model.loss(HAND_X, HAND_Y)
    expected = 0.5 * (np.log1p(np.exp(-2.5)) + np.log1p(np.exp(-1.5))) + 0.4125
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("hidden_dims", [[6], [6, 5]])
@pytest.mark.parametrize("normalization", [None, "batchnorm", "layernorm"])
def test_fc_gradients(hidden_dims, normalization):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 4))
    y = np.array([0, 1, 2, 1, 0])
    model = FullyConnectedNet(hidden_dims, input_dim=4, num_classes=3, normalization=normalization,
                              reg=0.3, weight_scale=0.5, dtype=np.float64, seed=0)
    expected_names = {f"{p}{i}" for p in "Wb" for i in range(1, len(hidden_dims) + 2)}
    if normalization:
        expected_names |= {f"{p}{i}" for p in ("gamma", "beta") for i in range(1, len(hidden_dims) + 1)}
    assert set(model.params) == expected_names
    check_gradients(model, X, y, tol=1e-4)


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_fc_gradients_with_dropout(normalization):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 4))
    y = np.array([0, 1, 2, 1, 0, 2])
    model = FullyConnectedNet([7, 6], input_dim=4, num_classes=3, dropout_keep_ratio=0.5,
                              normalization=normalization, weight_scale=0.5, dtype=np.float64, seed=5)
    loss = check_gradients(model, X, y, tol=1e-4)
    assert model.loss(X, y)[0] == loss  # the seeded masks repeat
    # in test mode dropout is the identity: same scores as the net without dropout
    plain = FullyConnectedNet([7, 6], input_dim=4, num_classes=3, normalization=normalization,
                              dtype=np.float64, seed=5)
    plain.params = model.params
    if normalization:
        plain.bn_params = model.bn_params
    np.testing.assert_array_equal(model.loss(X), plain.loss(X))
    assert loss != plain.loss(X, y)[0]


def test_fc_regularization_terms():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((5, 4))
    y = np.array([2, 1, 0, 1, 2])
    nets = [FullyConnectedNet([5, 5], input_dim=4, num_classes=3, reg=reg, dtype=np.float64, seed=1)
            for reg in (0.0, 2.5)]
    nets[1].params = {k: v.copy() for k, v in nets[0].params.items()}  # the same weights, whatever the source
    (loss0, grads0), (loss1, grads1) = (net.loss(X, y) for net in nets)
    weights = [nets[0].params[f"W{i}"] for i in (1, 2, 3)]
    assert loss1 - loss0 == pytest.approx(0.5 * 2.5 * sum(np.sum(W * W) for W in weights), rel=1e-10)
    for i, W in enumerate(weights, start=1):
        np.testing.assert_allclose(grads1[f"W{i}"] - grads0[f"W{i}"], 2.5 * W, atol=1e-12)
        np.testing.assert_array_equal(grads1[f"b{i}"], grads0[f"b{i}"])


def test_fc_modes_dtype_and_initial_loss():
    model = FullyConnectedNet([20, 20], input_dim=30, num_classes=10, normalization="batchnorm", seed=0)
    X = np.random.default_rng(7).standard_normal((40, 30))
    y = np.arange(40) % 10
    loss, grads = model.loss(X, y)
    assert loss == pytest.approx(np.log(10), abs=0.05)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(g.dtype == np.float32 for g in grads.values())
    assert [p["mode"] for p in model.bn_params] == ["train", "train"]
    assert model.bn_params[0]["running_mean"].shape == (20,)
    np.testing.assert_array_equal(model.params["gamma1"], np.ones(20))
    np.testing.assert_array_equal(model.params["beta2"], np.zeros(20))
    scores = model.loss(X)
    assert scores.shape == (40, 10) and scores.dtype == np.float32
    assert [p["mode"] for p in model.bn_params] == ["test", "test"]


def test_fc_without_hidden_layers_is_linear():
    model = FullyConnectedNet([], input_dim=3, num_classes=2, dtype=np.float64, seed=0)
    assert set(model.params) == {"W1", "b1"}
    X = np.array([[1.0, 0.0, -1.0]])
    np.testing.assert_allclose(model.loss(X), X @ model.params["W1"], atol=1e-15)


def test_fc_bad_arguments():
    with pytest.raises(ValueError, match=r"normalization must be one of \[None, 'batchnorm', 'layernorm'\]"):
        FullyConnectedNet([4], normalization="groupnorm")
    with pytest.raises(ValueError, match=r"dropout_keep_ratio .* must be in \(0, 1\], got 0"):
        FullyConnectedNet([4], dropout_keep_ratio=0)
    with pytest.raises(ValueError, match="each entry of hidden_dims must be an integer >= 1"):
        FullyConnectedNet([4, 0])
    with pytest.raises(ValueError, match="hidden_dims must be a list"):
        FullyConnectedNet(4)
    with pytest.raises(ValueError, match="dtype must be a floating-point dtype"):
        FullyConnectedNet([4], dtype=np.int32)


# ------------------------------------------------------------ the 2019 keyword dropout=

def test_fc_legacy_dropout_keyword_is_the_keep_ratio():
    X = np.random.default_rng(1).standard_normal((6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.warns(DeprecationWarning, match=r"dropout=\.\.\.\) is deprecated: use dropout_keep_ratio"):
        old = FullyConnectedNet([5], input_dim=4, num_classes=3, dropout=0.75, dtype=np.float64, seed=3)
    new = FullyConnectedNet([5], input_dim=4, num_classes=3, dropout_keep_ratio=0.75, dtype=np.float64, seed=3)
    assert old.use_dropout and old.dropout_param["p"] == 0.75
    assert old.dropout_param == new.dropout_param
    new.params = {k: v.copy() for k, v in old.params.items()}
    assert old.loss(X, y)[0] == new.loss(X, y)[0]  # same weights, same seeded masks
    with pytest.warns(DeprecationWarning):
        assert not FullyConnectedNet([5], input_dim=4, num_classes=3, dropout=1).use_dropout


def test_fc_legacy_dropout_errors():
    with pytest.raises(ValueError, match=r"either dropout_keep_ratio=0.5 or the older dropout=0.5 .*not both"):
        FullyConnectedNet([4], dropout_keep_ratio=0.5, dropout=0.5)
    with pytest.warns(DeprecationWarning), pytest.raises(
            ValueError, match=r"dropout is the probability of keeping a unit .* got 0 \(2017's dropout=0"):
        FullyConnectedNet([4], dropout=0)
