"""The two-layer network: initial parameters (same seed), then scores, loss and gradients
with identical parameters."""
import numpy as np
import pytest
from conftest import assert_same

KWARGS = dict(input_dim=12, hidden_dim=9, num_classes=5, weight_scale=0.1, reg=0.2, seed=31)


def net(factory, **changes):
    return factory("classifiers.fc_net").TwoLayerNet(**{**KWARGS, **changes})


def test_init(student, reference):
    assert_same(net(student).params, net(reference).params, where="params")


@pytest.mark.parametrize("reg", [0.0, 0.2])
def test_loss_and_gradients(student, reference, reg):
    expected, mine = net(reference, reg=reg), net(student, reg=reg)
    mine.params = {key: value.copy() for key, value in expected.params.items()}
    r = np.random.default_rng(19001)
    X, y = r.normal(size=(7, 12)), r.integers(0, 5, 7)
    assert_same(mine.loss(X), expected.loss(X), where="scores")
    assert_same(mine.loss(X, y), expected.loss(X, y), rtol=1e-5, atol=1e-8, where="loss and grads")
