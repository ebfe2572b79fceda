"""The optional 2016-2019 monolithic TwoLayerNet (classifiers/neural_net.py).

loss and predict are compared with the reference on identical parameters; train is
checked for what its docstring states (one loss per step, the histories' lengths, a
loss that goes down on a learnable problem), whatever random source draws the
minibatches.
"""
import numpy as np
import pytest
from conftest import assert_same

MODULE = "classifiers.neural_net"


def nets(student, reference, seed, D=6, H=10, C=4):
    expected = reference(MODULE).TwoLayerNet(D, H, C, std=0.5, seed=seed)
    mine = student(MODULE).TwoLayerNet(D, H, C, std=0.5, seed=seed)
    mine.params = {key: value.copy() for key, value in expected.params.items()}
    return mine, expected


@pytest.mark.parametrize("seed, reg", [(19001, 0.0), (19002, 0.05)])
def test_loss(student, reference, seed, reg):
    mine, expected = nets(student, reference, seed)
    r = np.random.default_rng(seed)
    X, y = r.normal(size=(7, 6)), r.integers(0, 4, 7)
    assert_same(mine.loss(X), expected.loss(X), where="scores (y=None)")
    mine_loss, mine_grads = mine.loss(X, y, reg=reg)
    expected_loss, expected_grads = expected.loss(X, y, reg=reg)
    assert_same(mine_loss, expected_loss, where="loss")
    assert_same(mine_grads, expected_grads, rtol=1e-5, atol=1e-8, where="grads")


def test_predict(student, reference):
    mine, expected = nets(student, reference, 19003)
    X = np.random.default_rng(19003).normal(size=(25, 6))
    assert_same(mine.predict(X), expected.predict(X), rtol=0, atol=0, where="predicted labels")


def test_train(student, reference):
    mine, _ = nets(student, reference, 19004, D=2, H=20, C=2)
    r = np.random.default_rng(19004)
    X = r.normal(size=(400, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)  # linearly separable: any working SGD learns it
    stats = mine.train(X, y, X[:100], y[:100], learning_rate=0.5, reg=1e-4, num_iters=300, batch_size=50)
    assert isinstance(stats, dict), "train returns a dict"
    assert len(stats["loss_history"]) == 300, "one loss per step"
    assert len(stats["train_acc_history"]) == len(stats["val_acc_history"]) == 38, \
        "one accuracy per epoch of max(1, N // batch_size) steps, step 0 included"
    first, last = np.mean(stats["loss_history"][:20]), np.mean(stats["loss_history"][-20:])
    assert last < 0.5 * first, f"mean loss went from {first:.3f} to {last:.3f}: is the step taken?"
    assert stats["val_acc_history"][-1] > 0.9, "validation accuracy after training on a separable problem"
