"""The 2016-2019 monolithic TwoLayerNet (classifiers/neural_net.py): values, gradients, training."""
import math

import numpy as np
import pytest

from course_utils.classifiers.neural_net import TwoLayerNet
from course_utils.gradient_check import eval_numerical_gradient, rel_error
from hand_net import HAND_PARAMS, HAND_X, HAND_Y


def hand_net():
    net = TwoLayerNet(2, 2, 2)
    net.params = {k: v.copy() for k, v in HAND_PARAMS.items()}
    return net


def blobs(n_per_class=20, seed=0):
    """Three well separated 2-D clusters."""
    rng = np.random.default_rng(seed)
    centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    y = np.repeat(np.arange(3), n_per_class)
    return centres[y] + rng.standard_normal((y.size, 2)), y


def test_init_shapes_zero_biases_and_scale():
    net = TwoLayerNet(300, 200, 10, std=0.5, seed=0)
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (300, 200), "b1": (200,), "W2": (200, 10), "b2": (10,)}
    assert not net.params["b1"].any() and not net.params["b2"].any()
    assert net.params["W1"].std() == pytest.approx(0.5, rel=0.02)
    assert abs(net.params["W1"].mean()) < 0.01
    assert TwoLayerNet(3, 4, 2).params["W1"].std() < 1e-3  # default std 1e-4


def test_default_init_reads_numpys_global_state():
    """seed=None draws W1 then W2 with np.random, as CS231n did: np.random.seed fixes them."""
    np.random.seed(7)
    net = TwoLayerNet(4, 3, 2, std=0.1)
    np.random.seed(7)
    np.testing.assert_array_equal(net.params["W1"], 0.1 * np.random.randn(4, 3))
    np.testing.assert_array_equal(net.params["W2"], 0.1 * np.random.randn(3, 2))
    a, b = TwoLayerNet(4, 3, 2, seed=1), TwoLayerNet(4, 3, 2, seed=np.random.default_rng(1))
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])


def test_hand_values():
    net = hand_net()
    # hidden = relu(X @ W1 + b1) = [[3, 0], [3, 2]]; scores = hidden @ W2 + b2
    np.testing.assert_allclose(net.loss(HAND_X), [[1.5, -1.0], [-0.5, 1.0]])
    data_loss = (math.log1p(math.exp(-2.5)) + math.log1p(math.exp(-1.5))) / 2
    assert net.loss(HAND_X, HAND_Y)[0] == pytest.approx(data_loss)
    # reg * (sum W1^2 + sum W2^2) = 0.1 * (6 + 2.25): no factor 0.5
    assert net.loss(HAND_X, HAND_Y, reg=0.1)[0] == pytest.approx(data_loss + 0.825)


def test_hand_gradients():
    net = hand_net()
    _, grads = net.loss(HAND_X, HAND_Y)
    # dscores = (softmax - onehot) / N; row 0: p = sigmoid(-2.5) on class 1, row 1: sigmoid(-1.5) on class 0
    s0, s1 = 1 / (1 + math.exp(2.5)), 1 / (1 + math.exp(1.5))
    dscores = np.array([[-s0, s0], [s1, -s1]]) / 2
    np.testing.assert_allclose(grads["b2"], dscores.sum(axis=0))
    np.testing.assert_allclose(grads["W2"], np.array([[3.0, 0.0], [3.0, 2.0]]).T @ dscores)
    _, with_reg = net.loss(HAND_X, HAND_Y, reg=0.1)
    for name in ("W1", "W2"):  # regularisation gradient 2 * reg * W
        np.testing.assert_allclose(with_reg[name] - grads[name], 0.2 * HAND_PARAMS[name])
    for name in ("b1", "b2"):
        np.testing.assert_array_equal(with_reg[name], grads[name])


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_numeric_gradients(reg):
    rng = np.random.default_rng(3)
    net = TwoLayerNet(5, 7, 4, std=0.5, seed=2)
    net.params["b1"] += 0.1 * rng.standard_normal(7)  # keep hidden units off the ReLU kink
    X, y = rng.standard_normal((6, 5)), rng.integers(4, size=6)
    loss, grads = net.loss(X, y, reg=reg)
    assert set(grads) == set(net.params)
    for name, param in net.params.items():
        numeric = eval_numerical_gradient(lambda _: net.loss(X, y, reg=reg)[0], param, verbose=False)
        assert rel_error(numeric, grads[name]) < 1e-7, name


def test_predict_is_argmax_of_scores():
    net = hand_net()
    np.testing.assert_array_equal(net.predict(HAND_X), [0, 1])
    X = np.random.default_rng(0).standard_normal((9, 2))
    np.testing.assert_array_equal(net.predict(X), net.loss(X).argmax(axis=1))


def test_train_learns_separable_data_and_reports_history():
    X, y = blobs()
    net = TwoLayerNet(2, 10, 3, std=0.1, seed=0)
    stats = net.train(X, y, X[::2], y[::2], learning_rate=0.5, reg=1e-4, num_iters=23, batch_size=10, seed=1)
    assert set(stats) == {"loss_history", "train_acc_history", "val_acc_history"}
    assert len(stats["loss_history"]) == 23
    # 60 examples, batches of 10: an epoch is 6 steps -> records after steps 0, 6, 12, 18
    assert len(stats["train_acc_history"]) == len(stats["val_acc_history"]) == 4
    assert np.mean(stats["loss_history"][-5:]) < 0.5 * stats["loss_history"][0]
    assert stats["val_acc_history"][-1] == 1.0
    assert (net.predict(X) == y).mean() > 0.95


def test_train_minibatches_are_rows_of_the_training_set():
    X, y = blobs(5)
    net = TwoLayerNet(2, 4, 3, seed=0)
    seen = []
    original = net.loss

    def recording_loss(X_batch, y=None, reg=0.0):
        if y is not None:
            seen.append((X_batch.copy(), y.copy()))
        return original(X_batch, y=y, reg=reg)

    net.loss = recording_loss
    net.train(X, y, X, y, num_iters=4, batch_size=7, seed=0)
    assert len(seen) == 4
    rows = {tuple(r) + (int(label),) for r, label in zip(X, y)}
    for X_batch, y_batch in seen:
        assert X_batch.shape == (7, 2) and y_batch.shape == (7,)
        assert all(tuple(r) + (int(label),) in rows for r, label in zip(X_batch, y_batch))


def test_learning_rate_decays_after_the_first_step_of_each_epoch():
    """With learning_rate_decay=0 only step 0 moves the parameters (its epoch record zeroes the rate)."""
    X, y = same_example(12)  # batches of 4: an epoch is 3 steps; every minibatch is alike
    initial = TwoLayerNet(2, 4, 3, std=0.1, seed=0).params
    params = []
    for num_iters in (1, 5):
        net = TwoLayerNet(2, 4, 3, std=0.1, seed=0)
        net.params = {k: v.copy() for k, v in initial.items()}
        stats = net.train(X, y, X, y, learning_rate=0.1, learning_rate_decay=0.0, num_iters=num_iters,
                          batch_size=4, seed=0)
        params.append(net.params)
    assert len(stats["val_acc_history"]) == 2  # steps 0 and 3
    for name in params[0]:
        np.testing.assert_array_equal(params[0][name], params[1][name])
    assert not np.array_equal(params[1]["W1"], initial["W1"])


def same_example(n):
    """n copies of one example: any minibatch of them is the same, whatever draws it."""
    return np.tile([[0.5, -1.0]], (n, 1)), np.ones(n, dtype=int)


def test_train_is_deterministic_when_the_batches_are(capsys):
    X, y = same_example(20)
    initial = TwoLayerNet(2, 4, 3, std=0.1, seed=0).params
    histories = []
    for _ in range(2):
        net = TwoLayerNet(2, 4, 3, std=0.1, seed=0)
        net.params = {k: v.copy() for k, v in initial.items()}
        histories.append(net.train(X, y, X, y, num_iters=101, batch_size=5, seed=3, verbose=True)["loss_history"])
    assert histories[0] == histories[1]
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"iteration 0 / 101: loss {histories[0][0]:f}", f"iteration 100 / 101: loss {histories[0][100]:f}"]


def test_bad_input():
    net = TwoLayerNet(3, 4, 2)
    with pytest.raises(ValueError, match=r"X must have shape \(any, 3\), got \(2, 4\)"):
        net.loss(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 1\]"):
        net.loss(np.zeros((2, 3)), np.array([0, 2]))
    with pytest.raises(ValueError, match="reg must be a number >= 0"):
        net.loss(np.zeros((2, 3)), np.array([0, 1]), reg=-1)
    with pytest.raises(ValueError, match=r"X_val must have shape \(any, 3\)"):
        net.train(np.zeros((2, 3)), np.array([0, 1]), np.zeros((2, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        net.train(np.zeros((2, 3)), np.array([0, 1]), np.zeros((2, 3)), np.array([0, 1]), batch_size=0)
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1"):
        TwoLayerNet(3, 0, 2)
    with pytest.raises(ValueError, match="std must be a number >= 0"):
        TwoLayerNet(3, 4, 2, std=-0.1)
