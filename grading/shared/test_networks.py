"""Networks (two-layer, fully connected, three-layer convolutional).

Initial parameters are checked for what the docstrings state (names, shapes, zero
biases, unit gammas and zero betas, weights with mean 0 and standard deviation
weight_scale, in the dtype asked for), measured on layers large enough for the
statistics, so any random source passes. Loss and gradients are compared with the
reference on identical parameters; a network with dropout is checked against its own
numerical gradient with a fixed mask seed (the docstring: the same seed gives the
same mask), since masks are the student's own random draws.
"""
import numpy as np
import pytest
from conftest import assert_same

# name -> (module, class, keyword arguments, input shape); small, for loss and gradients
MODELS = {
    "two_layer_net": ("classifiers.fc_net", "TwoLayerNet",
                      dict(input_dim=12, hidden_dim=9, num_classes=5, weight_scale=0.1, reg=0.2), (6, 12)),
    "fc_net": ("classifiers.fc_net", "FullyConnectedNet",
               dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, reg=0.1, weight_scale=0.2,
                    dtype=np.float64), (5, 10)),
    "fc_net_batchnorm": ("classifiers.fc_net", "FullyConnectedNet",
                         dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, normalization="batchnorm",
                              weight_scale=0.2, dtype=np.float64), (5, 10)),
    "fc_net_layernorm": ("classifiers.fc_net", "FullyConnectedNet",
                         dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, normalization="layernorm",
                              weight_scale=0.2, dtype=np.float64), (5, 10)),
    "three_layer_convnet": ("classifiers.cnn", "ThreeLayerConvNet",
                            dict(input_dim=(2, 8, 8), num_filters=3, filter_size=3, hidden_dim=6, num_classes=4,
                                 weight_scale=0.1, reg=0.05, dtype=np.float64), (3, 2, 8, 8)),
}

# name -> (module, class, keyword arguments); large, for the statistics of the initial weights
LARGE = {
    "two_layer_net": ("classifiers.fc_net", "TwoLayerNet",
                      dict(input_dim=300, hidden_dim=200, num_classes=10, weight_scale=0.05)),
    "fc_net": ("classifiers.fc_net", "FullyConnectedNet",
               dict(hidden_dims=[200, 100], input_dim=300, num_classes=10, weight_scale=0.05, dtype=np.float64)),
    "fc_net_batchnorm": ("classifiers.fc_net", "FullyConnectedNet",
                         dict(hidden_dims=[200, 100], input_dim=300, num_classes=10, normalization="batchnorm",
                              weight_scale=0.05, dtype=np.float32)),
    "fc_net_layernorm": ("classifiers.fc_net", "FullyConnectedNet",
                         dict(hidden_dims=[200, 100], input_dim=300, num_classes=10, normalization="layernorm",
                              weight_scale=0.05, dtype=np.float64)),
    "three_layer_convnet": ("classifiers.cnn", "ThreeLayerConvNet",
                            dict(input_dim=(3, 16, 16), num_filters=32, filter_size=5, hidden_dim=100,
                                 num_classes=10, weight_scale=0.05, dtype=np.float64)),
}


def build(factory, table, name, **extra):
    module, cls, kwargs = table[name][:3]
    return getattr(factory(module), cls)(**{**kwargs, **extra})


@pytest.mark.parametrize("name", sorted(LARGE))
def test_init(student, reference, name):
    mine, expected = build(student, LARGE, name).params, build(reference, LARGE, name).params
    scale = LARGE[name][2]["weight_scale"]
    assert sorted(mine) == sorted(expected), f"parameters {sorted(mine)}, expected {sorted(expected)}"
    for key, value in expected.items():
        got = np.asarray(mine[key])
        assert got.shape == value.shape, f"{key}: shape {got.shape}, expected {value.shape}"
        assert got.dtype == value.dtype, f"{key}: dtype {got.dtype}, expected {value.dtype}"
        if key.startswith("W"):
            std, mean = float(got.std()), float(got.mean())
            tolerance = 6 / np.sqrt(2 * got.size)  # six standard errors of a sample std
            assert abs(std / scale - 1) < tolerance, f"{key}: standard deviation {std:.3g}, expected weight_scale"
            assert abs(mean) < 6 * scale / np.sqrt(got.size), f"{key}: mean {mean:.2g}, expected about 0"
        else:  # biases, gammas and betas are fixed by the docstring
            assert_same(got, value, rtol=0, atol=0, where=key)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_loss_and_gradients(student, reference, name):
    expected = build(reference, MODELS, name)
    mine = build(student, MODELS, name)
    mine.params = {key: value.copy() for key, value in expected.params.items()}
    r = np.random.default_rng(12001)
    X, y = r.normal(size=MODELS[name][3]), r.integers(0, 4, MODELS[name][3][0])
    assert_same(mine.loss(X), expected.loss(X), where="scores")
    mine_loss, mine_grads = mine.loss(X, y)
    expected_loss, expected_grads = expected.loss(X, y)
    assert_same(mine_loss, expected_loss, where="loss")
    assert_same(mine_grads, expected_grads, rtol=1e-5, atol=1e-7, where="grads")


def test_dropout_net_scores_and_own_gradients(student, reference):
    kwargs = dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, dropout_keep_ratio=0.6, weight_scale=0.2,
                  dtype=np.float64)
    expected = reference("classifiers.fc_net").FullyConnectedNet(**kwargs)
    mine = student("classifiers.fc_net").FullyConnectedNet(**kwargs)
    # Seeded parameters with non-zero biases. With the constructor's zero biases, an example
    # whose hidden units a mask drops entirely reaches the next ReLU at exactly 0, its kink,
    # where the centred difference sees half the slope: whether that happens depended on the
    # student's masks and on unseeded initial weights (about one run in six failed).
    r = np.random.default_rng(12002)
    params = {key: 0.3 * r.normal(size=value.shape) for key, value in sorted(expected.params.items())}
    expected.params = {key: value.copy() for key, value in params.items()}
    mine.params = params
    X, y = r.normal(size=(5, 10)), r.integers(0, 4, 5)
    assert_same(mine.loss(X), expected.loss(X), where="scores in test mode (no dropout)")
    dropout_param = mine.dropout_param
    assert isinstance(dropout_param, dict) and dropout_param.get("p") == 0.6, \
        "dropout_param must hold the keep probability p"
    mine.dropout_param = {**dropout_param, "seed": 4321}
    loss, grads = mine.loss(X, y)
    assert_same(mine.loss(X, y)[0], loss, rtol=0, atol=0, where="loss again with the same mask seed")
    h = 1e-6
    for key in ("W1", "b2", "W3"):
        value = params[key]
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                shifted = {**params, key: value.copy()}
                shifted[key][index] += sign * h
                mine.params = shifted
                numeric[index] += sign * mine.loss(X, y)[0] / (2 * h)
        mine.params = params
        assert_same(grads[key], numeric, rtol=1e-4, atol=1e-7, where=f"grads[{key!r}] with dropout (numeric check)")
