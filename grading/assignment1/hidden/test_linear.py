"""SVM and softmax losses, and the linear classifier's training loop and prediction."""
import numpy as np
import pytest

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
    assert np.isclose(loss, expected_loss, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(W, W_before)  # inputs untouched


def trainee(student, reference):
    """The student's training loop driven by the reference SVM loss (train is graded alone)."""
    base = student("classifiers.linear_classifier").LinearClassifier
    svm = reference("classifiers.linear_svm").svm_loss_vectorized

    class Trainee(base):
        def loss(self, X_batch, y_batch, reg):
            return svm(self.W, X_batch, y_batch, reg)
    return Trainee()


@pytest.mark.parametrize("seed", [4001, 4002])
def test_train(student, reference, seed):
    _, X, y = problem(seed, N=300)
    mine = trainee(student, reference)
    history = mine.train(X, y, learning_rate=1e-3, reg=1e-2, num_iters=25, batch_size=32, seed=seed)
    theirs = trainee(reference, reference)
    expected = theirs.train(X, y, learning_rate=1e-3, reg=1e-2, num_iters=25, batch_size=32, seed=seed)
    np.testing.assert_allclose(history, expected, rtol=1e-7)
    np.testing.assert_allclose(mine.W, theirs.W, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("seed", [5001, 5002])
def test_predict(student, reference, seed):
    W, X, _ = problem(seed)
    mine = student("classifiers.linear_classifier").LinearSVM()
    theirs = reference("classifiers.linear_classifier").LinearSVM()
    mine.W, theirs.W = W.copy(), W.copy()
    np.testing.assert_array_equal(mine.predict(X), theirs.predict(X))
