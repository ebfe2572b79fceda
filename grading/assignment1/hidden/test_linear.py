"""SVM and softmax losses, and the linear classifier's training loop and prediction.

The training loop is checked only for what ``LinearClassifier.train``'s docstring
states (minibatches of batch_size rows drawn from X with their labels, W initialised
to 0.001 * standard normal of shape (D, C), one step W -= learning_rate * dW per
iteration, the loss history, later calls continuing from W), with the loss replaced
by a quadratic stand-in, so any random source and any loss question's state give the
same verdict.
"""
import numpy as np
import pytest
from conftest import assert_same

LOSSES = [("classifiers.linear_svm", "svm_loss_naive"), ("classifiers.linear_svm", "svm_loss_vectorized"),
          ("classifiers.softmax", "softmax_loss_naive"), ("classifiers.softmax", "softmax_loss_vectorized")]


def problem(seed, N=40, D=13, C=6):
    rng = np.random.default_rng(seed)
    return 0.01 * rng.normal(size=(D, C)), rng.normal(size=(N, D)) * 5, rng.integers(0, C, N)


@pytest.mark.parametrize("module, name", LOSSES, ids=[name for _, name in LOSSES])
@pytest.mark.parametrize("seed, reg", [(3001, 0.0), (3002, 0.37)])
def test_loss_and_gradient(student, reference, module, name, seed, reg):
    W, X, y = problem(seed)
    W_before = W.copy()
    loss, dW = getattr(student(module), name)(W, X, y, reg)
    expected_loss, expected_dW = getattr(reference(module), name)(W, X, y, reg)
    assert_same(loss, expected_loss, rtol=1e-7, atol=1e-10, where="loss")
    assert_same(dW, expected_dW, rtol=1e-6, atol=1e-9, where="dW")
    assert_same(W, W_before, rtol=0, atol=0, where="W after the call (inputs must not change)")


def recorded_training(student_kit, student, X, y, **options):
    """Train the student's LinearClassifier with the quadratic stand-in loss; return
    (history, calls [(W, X_batch, y_batch, reg)], final W, the classifier)."""
    base = student("classifiers.linear_classifier").LinearClassifier
    classifier = student_kit.probe(base, "quadratic_loss")()
    history = classifier.train(X, y, **options)
    return history, classifier.recorded, classifier.W, classifier


@pytest.mark.parametrize("seed", [4001, 4002])
def test_train(student_kit, student, seed):
    _, X, y = problem(seed, N=300, D=40, C=8)
    lr, reg, iters, batch = 0.05, 0.3, 25, 32
    history, calls, W, classifier = recorded_training(student_kit, student, X, y, learning_rate=lr, reg=reg,
                                                      num_iters=iters, batch_size=batch)
    assert isinstance(history, (list, tuple)) and len(history) == iters, "one loss per iteration"
    assert len(calls) == iters, f"loss() called {len(calls)} times for {iters} iterations"
    rows = {row.tobytes(): label for row, label in zip(X, y)}
    for step, (W_t, X_batch, y_batch, reg_t) in enumerate(calls):
        assert np.shape(X_batch) == (batch, X.shape[1]), f"minibatch {step}: X_batch shape {np.shape(X_batch)}"
        assert np.shape(y_batch) == (batch,), f"minibatch {step}: y_batch shape {np.shape(y_batch)}"
        assert all(row.tobytes() in rows for row in X_batch), f"minibatch {step}: rows that are not rows of X"
        assert [rows[row.tobytes()] for row in X_batch] == list(y_batch), f"minibatch {step}: labels do not match"
        assert reg_t == reg, f"minibatch {step}: loss called with reg={reg_t}, expected the given reg"
    assert len({c[1].tobytes() for c in calls}) > 1, "every minibatch is the same: are they drawn at random?"
    W0 = calls[0][0]
    assert W0.shape == (X.shape[1], int(y.max()) + 1), f"initial W shape {W0.shape}"
    assert 0.0008 < W0.std() < 0.0012 and abs(W0.mean()) < 0.0003, \
        f"initial W: std {W0.std():.2e}, mean {W0.mean():.1e}; expected 0.001 * standard normal"
    for step in range(1, iters):
        assert_same(calls[step][0], (1 - lr) * calls[step - 1][0], rtol=1e-9, atol=1e-15,
                    where=f"W before step {step} (W -= learning_rate * dW)")
    assert_same(W, (1 - lr) * calls[-1][0], rtol=1e-9, atol=1e-15, where="W after training")
    assert_same(history, [0.5 * float(np.sum(c[0] ** 2)) for c in calls], rtol=1e-9, where="loss history")
    more = classifier.train(X, y, learning_rate=lr, reg=reg, num_iters=3, batch_size=batch)
    assert len(more) == 3
    assert_same(classifier.recorded[iters][0], W, rtol=1e-12, atol=0,
                where="W at the start of a second train() call (training continues)")


@pytest.mark.parametrize("seed", [5001, 5002])
def test_predict(student, reference, seed):
    W, X, _ = problem(seed)
    mine = student("classifiers.linear_classifier").LinearSVM()
    theirs = reference("classifiers.linear_classifier").LinearSVM()
    mine.W, theirs.W = W.copy(), W.copy()
    assert_same(mine.predict(X), theirs.predict(X), rtol=0, atol=0, where="predicted labels")
