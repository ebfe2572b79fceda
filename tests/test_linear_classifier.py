import numpy as np
import pytest

from course_utils.classifiers.linear_classifier import LinearClassifier, LinearSVM, Softmax
from course_utils.classifiers.linear_svm import svm_loss_vectorized
from course_utils.classifiers.softmax import softmax_loss_vectorized

MODELS = [LinearSVM, Softmax]


def _separable(seed, N=300, D=6, C=3):
    """Gaussian blobs around well-separated centres, with a constant bias feature."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * np.eye(C, D - 1)
    y = rng.integers(0, C, N)
    X = centres[y] + 0.5 * rng.standard_normal((N, D - 1))
    return np.hstack([X, np.ones((N, 1))]), y


def squared_error(W, X, y, reg):
    """Half the mean squared distance of the scores to one-hot targets, plus reg * |W|^2."""
    diff = X @ W - np.eye(W.shape[1])[y]
    N = X.shape[0]
    return 0.5 * np.sum(diff**2) / N + reg * np.sum(W * W), X.T @ diff / N + 2 * reg * W


class SquaredError(LinearClassifier):
    """A linear classifier with the loss above: the tests of train need no loss exercise."""

    def loss(self, X_batch, y_batch, reg):
        return squared_error(self.W, X_batch, y_batch, reg)


def test_train_decreases_the_loss_and_fits_separable_data():
    X, y = _separable(0)
    model = SquaredError()
    history = model.train(X, y, learning_rate=1e-1, reg=1e-4, num_iters=200, batch_size=50, seed=0)
    assert len(history) == 200 and all(isinstance(v, float) for v in history)
    assert np.mean(history[-20:]) < 0.5 * np.mean(history[:5])
    X_test, y_test = _separable(1)
    assert np.mean(np.argmax(X_test @ model.W, axis=1) == y_test) > 0.95  # chance is 1/3


def test_train_initialises_small_random_weights():
    # 0.001 * standard normal (D, C), from any random source: checked by its statistics
    X, y = _separable(2, D=40, C=8)
    model = SquaredError()
    model.train(X, y, num_iters=0, seed=7)
    assert model.W.shape == (40, 8)
    assert 0.0008 < model.W.std() < 0.0012 and abs(model.W.mean()) < 0.0003


def test_train_takes_num_classes_from_labels_and_warm_starts():
    X, y = _separable(3, D=5, C=4)
    model = SquaredError()
    model.train(X, y, num_iters=3, seed=0)
    assert model.W.shape == (5, 4)
    W_before = model.W.copy()
    model.train(X, y, num_iters=3, seed=1)  # continues from the current W
    assert model.W.shape == (5, 4) and not np.array_equal(model.W, W_before)
    with pytest.raises(ValueError, match=r"labels in \[0, 3\]"):
        model.train(X, np.full(X.shape[0], 4), num_iters=1)
    with pytest.raises(ValueError, match=r"shape \(N, 5\)"):
        model.train(X[:, :3], y, num_iters=1)


class Quadratic(LinearClassifier):
    """loss 0.5 * sum(W**2) with gradient W, whatever the minibatch: one step is W -> (1 - lr) W."""

    def loss(self, X_batch, y_batch, reg):
        return 0.5 * float(np.sum(self.W ** 2)), self.W.copy()


def test_train_step_moves_against_the_gradient():
    X, y = _separable(4, N=10, D=3, C=2)
    model = Quadratic()
    model.train(X, y, num_iters=0)
    W0 = model.W.copy()
    model.train(X, y, learning_rate=0.5, num_iters=1, batch_size=4)
    np.testing.assert_allclose(model.W, 0.5 * W0, rtol=1e-12)


@pytest.mark.parametrize("model_cls", MODELS)
def test_svm_and_softmax_classifiers_learn_separable_data(model_cls):
    # all of the linear classifier exercises together: the losses, train and predict
    X, y = _separable(0)
    model = model_cls()
    model.train(X, y, learning_rate=1e-1, reg=1e-4, num_iters=200, batch_size=50, seed=0)
    X_test, y_test = _separable(1)
    assert np.mean(model.predict(X_test) == y_test) > 0.95


def test_predict_picks_highest_score():
    model = Softmax()
    model.W = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, -1.0]])
    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [3.0, 1.0]])
    # scores: [1,0,0], [0,2,-1], [0,-2,1], [3,2,-1]
    np.testing.assert_array_equal(model.predict(X), [0, 1, 2, 0])


@pytest.mark.parametrize("model_cls, loss_fn", [(LinearSVM, svm_loss_vectorized), (Softmax, softmax_loss_vectorized)])
def test_loss_uses_vectorized_function(model_cls, loss_fn):
    X, y = _separable(5, N=12, D=4, C=3)
    model = model_cls()
    model.W = np.random.default_rng(0).standard_normal((4, 3))
    loss, grad = model.loss(X, y, 0.2)
    ref_loss, ref_grad = loss_fn(model.W, X, y, 0.2)
    assert loss == ref_loss
    np.testing.assert_array_equal(grad, ref_grad)


def test_base_class_has_no_loss():
    with pytest.raises(NotImplementedError, match="LinearSVM or Softmax"):
        LinearClassifier().loss(np.zeros((1, 1)), np.zeros(1, dtype=int), 0.0)


def test_predict_before_train():
    with pytest.raises(ValueError, match="call train"):
        Softmax().predict(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "X, y, kwargs, match",
    [
        (np.ones((4, 2), dtype=int), np.zeros(4, dtype=int), {}, "floating-point"),
        (np.ones(4), np.zeros(4, dtype=int), {}, "X must have 2 dimensions"),
        (np.ones((0, 2)), np.zeros(0, dtype=int), {}, "at least one example"),
        (np.ones((4, 2)), np.zeros(4), {}, "integer labels"),
        (np.ones((4, 2)), np.zeros(3, dtype=int), {}, r"shape \(4,\)"),
        (np.ones((4, 2)), np.array([0, -1, 1, 0]), {}, "non-negative"),
        (np.ones((4, 2)), np.zeros(4, dtype=int), dict(learning_rate=-1.0), "learning_rate"),
        (np.ones((4, 2)), np.zeros(4, dtype=int), dict(reg=-1.0), "reg must be"),
        (np.ones((4, 2)), np.zeros(4, dtype=int), dict(num_iters=-1), "num_iters must be an integer >= 0"),
        (np.ones((4, 2)), np.zeros(4, dtype=int), dict(batch_size=0), "batch_size must be an integer >= 1"),
    ],
)
def test_train_rejects_bad_input(X, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearSVM().train(X, y, **kwargs)


def test_predict_rejects_wrong_width():
    model = LinearSVM()
    model.W = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"X must have shape \(any, 3\)"):
        model.predict(np.zeros((2, 4)))


def test_train_verbose_prints_every_hundred_steps(capsys):
    X, y = _separable(6, N=20, D=3, C=2)
    SquaredError().train(X, y, num_iters=201, batch_size=5, verbose=True, seed=0)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "iteration 0 / 201", "iteration 100 / 201", "iteration 200 / 201"
    ]
