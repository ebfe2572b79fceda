"""Update rules against values worked out by hand from the formulas in API.md.

The inputs are chosen so the square roots come out exact: epsilon is set to 0
where the numbers must be exact, and the defaults are checked separately.
"""
import numpy as np
import pytest

from course_utils.optim import adam, rmsprop, sgd, sgd_momentum

W = np.array([[1.0, 2.0], [3.0, 4.0]])


def test_sgd_one_step_and_default():
    dw = np.array([[0.5, -1.0], [2.0, 0.0]])
    next_w, config = sgd(W, dw, {"learning_rate": 0.1})
    np.testing.assert_allclose(next_w, [[0.95, 2.1], [2.8, 4.0]], rtol=0, atol=1e-15)
    next_w, config = sgd(W, dw)
    assert config == {"learning_rate": 1e-2}
    np.testing.assert_allclose(next_w, [[0.995, 2.01], [2.98, 4.0]], rtol=0, atol=1e-15)


def test_sgd_momentum_two_steps():
    dw = np.array([[0.5, -1.0], [2.0, 0.0]])
    config = {"learning_rate": 0.1, "momentum": 0.5}
    # step 1: v = -0.1 * dw
    w1, config = sgd_momentum(W, dw, config)
    np.testing.assert_allclose(config["velocity"], [[-0.05, 0.1], [-0.2, 0.0]], atol=1e-15)
    np.testing.assert_allclose(w1, [[0.95, 2.1], [2.8, 4.0]], atol=1e-15)
    # step 2: v = 0.5 * v - 0.1 * dw = [[-0.075, 0.15], [-0.3, 0]]
    w2, config = sgd_momentum(w1, dw, config)
    np.testing.assert_allclose(config["velocity"], [[-0.075, 0.15], [-0.3, 0.0]], atol=1e-15)
    np.testing.assert_allclose(w2, [[0.875, 2.25], [2.5, 4.0]], atol=1e-15)


def test_sgd_momentum_defaults():
    dw = np.array([[1.0, -1.0], [0.0, 2.0]])
    w1, config = sgd_momentum(W, dw)
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    np.testing.assert_allclose(config["velocity"], -0.01 * dw, atol=1e-15)
    # second step with the defaults: v = 0.9 * (-0.01 dw) - 0.01 dw = -0.019 dw
    w2, config = sgd_momentum(w1, dw, config)
    np.testing.assert_allclose(w2, W - 0.01 * dw - 0.019 * dw, atol=1e-15)


def test_rmsprop_two_steps():
    config = {"learning_rate": 0.1, "decay_rate": 0.75, "epsilon": 0.0}
    # step 1: cache = 0.25 * dw1**2 = [[1, 1], [4, 4]]; step = 0.1 * dw1 / [[1, 1], [2, 2]]
    dw1 = np.array([[2.0, -2.0], [4.0, -4.0]])
    w1, config = rmsprop(W, dw1, config)
    np.testing.assert_allclose(config["cache"], [[1.0, 1.0], [4.0, 4.0]], atol=1e-15)
    np.testing.assert_allclose(w1, [[0.8, 2.2], [2.8, 4.2]], atol=1e-15)
    # step 2: cache = 0.75 * cache + 0.25 * dw2**2 = [[1, 1], [4, 4]] again
    dw2 = np.array([[1.0, -1.0], [2.0, -2.0]])
    w2, config = rmsprop(w1, dw2, config)
    np.testing.assert_allclose(config["cache"], [[1.0, 1.0], [4.0, 4.0]], atol=1e-15)
    np.testing.assert_allclose(w2, [[0.7, 2.3], [2.7, 4.3]], atol=1e-15)


def test_rmsprop_defaults():
    dw = np.array([[0.1, -0.1], [0.3, -0.3]])
    w1, config = rmsprop(W, dw)
    assert (config["learning_rate"], config["decay_rate"], config["epsilon"]) == (1e-2, 0.99, 1e-8)
    # cache = 0.01 dw**2, so sqrt(cache) = 0.1 |dw| and the step is 0.1 * sign(dw)
    np.testing.assert_allclose(config["cache"], 0.01 * dw**2, rtol=1e-12)
    np.testing.assert_allclose(w1, W - 0.1 * np.sign(dw), rtol=1e-6)


def test_adam_two_steps_bias_correction():
    config = {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "epsilon": 0.0}
    dw = np.array([[1.0, -2.0], [3.0, -4.0]])
    # step 1 (t = 1): m = 0.5 dw, v = 0.25 dw**2; m_hat = dw, v_hat = dw**2 -> step 0.1 sign(dw)
    w1, config = adam(W, dw, config)
    assert config["t"] == 1
    np.testing.assert_allclose(config["m"], 0.5 * dw, atol=1e-15)
    np.testing.assert_allclose(config["v"], 0.25 * dw**2, atol=1e-15)
    np.testing.assert_allclose(w1, [[0.9, 2.1], [2.9, 4.1]], atol=1e-15)
    # step 2 (t = 2): m = 0.75 dw, v = 0.4375 dw**2; the corrections divide by
    # 0.75 and 0.4375, so the step is again 0.1 sign(dw)
    w2, config = adam(w1, dw, config)
    assert config["t"] == 2
    np.testing.assert_allclose(config["m"], 0.75 * dw, atol=1e-15)
    np.testing.assert_allclose(config["v"], 0.4375 * dw**2, atol=1e-15)
    np.testing.assert_allclose(w2, [[0.8, 2.2], [2.8, 4.2]], atol=1e-14)


def test_adam_uneven_second_step():
    config = {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "epsilon": 0.0}
    w1, config = adam(W, np.array([[2.0, 2.0], [2.0, 2.0]]), config)
    # second gradient 0: m = 0.5 * 1 = 0.5 -> m_hat = 0.5 / 0.75 = 2/3;
    # v = 0.75 * 1 = 0.75 -> v_hat = 0.75 / 0.4375 = 12/7; step = 0.1 * (2/3) / sqrt(12/7)
    w2, config = adam(w1, np.zeros((2, 2)), config)
    expected_step = 0.1 * (2 / 3) / np.sqrt(12 / 7)
    np.testing.assert_allclose(w1 - w2, np.full((2, 2), expected_step), rtol=1e-12)


def test_adam_defaults():
    dw = np.array([[0.5, -0.5], [1.0, -3.0]])
    w1, config = adam(W, dw)
    for key, value in {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 1}.items():
        assert config[key] == value
    np.testing.assert_allclose(w1, W - 1e-3 * np.sign(dw), rtol=1e-9)


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, rmsprop, adam])
def test_rules_keep_inputs_and_user_settings(rule):
    w = W.copy()
    dw = np.array([[0.5, -1.0], [2.0, 0.25]])
    config = {"learning_rate": 0.5}
    next_w, out = rule(w, dw, config)
    assert out is config and config["learning_rate"] == 0.5
    np.testing.assert_array_equal(w, W)
    np.testing.assert_array_equal(dw, [[0.5, -1.0], [2.0, 0.25]])
    assert next_w.shape == W.shape and not np.shares_memory(next_w, w)


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, rmsprop, adam])
def test_rules_reject_bad_input(rule):
    with pytest.raises(ValueError, match=r"dw must have shape \(2, 2\), got \(2, 3\)"):
        rule(W, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="w must be a numpy array"):
        rule([1.0, 2.0], np.zeros(2))
    with pytest.raises(ValueError, match="config must be a dict"):
        rule(W, np.zeros((2, 2)), config=[0.1])
