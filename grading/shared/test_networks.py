"""Networks (two-layer, fully connected, three-layer convolutional): initial parameters (same seed), then loss and gradients with identical parameters."""
import numpy as np
import pytest
from conftest import assert_same

MODELS = {
    "two_layer_net": ("classifiers.fc_net", "TwoLayerNet",
                      dict(input_dim=12, hidden_dim=9, num_classes=5, weight_scale=0.1, reg=0.2, seed=11), (6, 12)),
    "fc_net": ("classifiers.fc_net", "FullyConnectedNet",
               dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, reg=0.1, weight_scale=0.2,
                    dtype=np.float64, seed=12), (5, 10)),
    "fc_net_batchnorm": ("classifiers.fc_net", "FullyConnectedNet",
                         dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, normalization="batchnorm",
                              weight_scale=0.2, dtype=np.float64, seed=13), (5, 10)),
    "fc_net_layernorm": ("classifiers.fc_net", "FullyConnectedNet",
                         dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, normalization="layernorm",
                              weight_scale=0.2, dtype=np.float64, seed=14), (5, 10)),
    "fc_net_dropout": ("classifiers.fc_net", "FullyConnectedNet",
                       dict(hidden_dims=[8, 7], input_dim=10, num_classes=4, dropout_keep_ratio=0.6,
                            weight_scale=0.2, dtype=np.float64, seed=15), (5, 10)),
    "three_layer_convnet": ("classifiers.cnn", "ThreeLayerConvNet",
                            dict(input_dim=(2, 8, 8), num_filters=3, filter_size=3, hidden_dim=6, num_classes=4,
                                 weight_scale=0.1, reg=0.05, dtype=np.float64), (3, 2, 8, 8)),
}


def build(factory, name):
    module, cls, kwargs, _ = MODELS[name]
    return getattr(factory(module), cls)(**kwargs)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_init(student, reference, name):
    mine, expected = build(student, name), build(reference, name)
    if "seed" in MODELS[name][2]:
        assert_same(mine.params, expected.params, where="params")
    else:  # no seed: compare what does not depend on random draws
        assert sorted(mine.params) == sorted(expected.params)
        for key, value in expected.params.items():
            assert mine.params[key].shape == value.shape, key
            if key.startswith("b"):
                assert_same(mine.params[key], value, where=key)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_loss_and_gradients(student, reference, name):
    expected = build(reference, name)
    mine = build(student, name)
    mine.params = {key: value.copy() for key, value in expected.params.items()}
    r = np.random.default_rng(12001)
    X, y = r.normal(size=MODELS[name][3]), r.integers(0, 4, MODELS[name][3][0])
    assert_same(mine.loss(X), expected.loss(X), where="scores")
    mine_loss, mine_grads = mine.loss(X, y)
    expected_loss, expected_grads = expected.loss(X, y)
    assert_same(mine_loss, expected_loss, where="loss")
    assert_same(mine_grads, expected_grads, rtol=1e-5, atol=1e-7, where="grads")
