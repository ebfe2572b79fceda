import numpy as np
import pytest

from course_utils.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from course_utils.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from course_utils.gradient_check import grad_check_sparse, rel_error

SVM = [svm_loss_naive, svm_loss_vectorized]
SOFTMAX = [softmax_loss_naive, softmax_loss_vectorized]
ALL = SVM + SOFTMAX


def _problem(seed, N=40, D=30, C=10, scale=1.0):
    rng = np.random.default_rng(seed)
    W = scale * rng.standard_normal((D, C))
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, N)
    return W, X, y


# Two examples, three classes; X picks one row of W per example, so the scores
# can be read off W directly: example 0 scores [1, 2, 0], example 1 [0, .5, 1].
W_HAND = np.array([[1.0, 2.0, 0.0], [0.0, 0.5, 1.0]])
X_HAND = np.eye(2)
Y_HAND = np.array([0, 2])


@pytest.mark.parametrize("loss_fn", SVM)
def test_svm_hand_computed(loss_fn):
    # margins: ex 0 (y=0): 2-1+1 = 2 and 0-1+1 = 0; ex 1 (y=2): 0-1+1 = 0, .5-1+1 = .5
    # data loss (2 + .5) / 2 = 1.25; reg term .1 * 6.25 = .625
    loss, dW = loss_fn(W_HAND, X_HAND, Y_HAND, 0.1)
    assert loss == pytest.approx(1.875, abs=1e-12)
    # positive margins only at class 1: column 1 gains x, the true class loses x,
    # halved by the mean, plus 2 * .1 * W
    data = np.array([[-1.0, 1.0, 0.0], [0.0, 1.0, -1.0]]) / 2
    np.testing.assert_allclose(dW, data + 0.2 * W_HAND, atol=1e-12)


@pytest.mark.parametrize("loss_fn", SOFTMAX)
def test_softmax_hand_computed(loss_fn):
    W = np.array([[0.0, np.log(3.0), 0.0], [np.log(2.0), 0.0, 0.0]])
    y = np.array([1, 2])
    # ex 0: exp scores [1, 3, 1] -> p = [.2, .6, .2], loss -log .6
    # ex 1: exp scores [2, 1, 1] -> p = [.5, .25, .25], loss -log .25
    loss, dW = loss_fn(W, X_HAND, y, 0.5)
    reg_term = 0.5 * (np.log(3.0) ** 2 + np.log(2.0) ** 2)
    assert loss == pytest.approx((np.log(5 / 3) + np.log(4.0)) / 2 + reg_term, abs=1e-12)
    data = np.array([[0.2, -0.4, 0.2], [0.5, 0.25, -0.75]]) / 2
    np.testing.assert_allclose(dW, data + W, atol=1e-12)  # 2 * .5 * W = W


@pytest.mark.parametrize("loss_fn", SOFTMAX)
def test_softmax_loss_is_log_num_classes_at_tiny_weights(loss_fn):
    W, X, y = _problem(0, C=10, scale=1e-4)
    loss, _ = loss_fn(W, X, y, 0.0)
    assert loss == pytest.approx(np.log(10), abs=1e-2)
    loss, dW = loss_fn(np.zeros_like(W), X, y, 0.0)
    assert loss == pytest.approx(np.log(10), abs=1e-12)
    onehot = np.eye(10)[y]
    np.testing.assert_allclose(dW, X.T @ (0.1 - onehot) / X.shape[0], atol=1e-12)


@pytest.mark.parametrize("loss_fn", SOFTMAX)
def test_softmax_is_stable_for_huge_scores(loss_fn):
    W = np.array([[1000.0, 0.0, -1000.0]])
    X = np.ones((2, 1))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dW = loss_fn(W, X, np.array([0, 1]), 0.0)
    # ex 0: the correct class dominates, loss ~0; ex 1: loss ~ 1000
    assert loss == pytest.approx(500.0, rel=1e-9)
    assert np.all(np.isfinite(dW))


@pytest.mark.parametrize("naive, fast", [tuple(SVM), tuple(SOFTMAX)], ids=["svm", "softmax"])  # two questions
def test_naive_equals_vectorized(naive, fast):
    for seed in range(3):
        W, X, y = _problem(seed, N=37, D=25, C=7)
        loss_n, dW_n = naive(W, X, y, 0.05)
        loss_v, dW_v = fast(W, X, y, 0.05)
        assert rel_error(loss_n, loss_v) < 1e-8
        assert rel_error(dW_n, dW_v) < 1e-8


@pytest.mark.parametrize("loss_fn", ALL)
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_numeric_gradient(loss_fn, reg):
    W, X, y = _problem(4, N=20, D=15, C=5)
    _, dW = loss_fn(W, X, y, reg)
    errors = grad_check_sparse(
        lambda w: loss_fn(w, X, y, reg)[0], W, dW, num_checks=15, verbose=False
    )
    assert errors.max() < 1e-6


@pytest.mark.parametrize("loss_fn", ALL)
def test_inputs_not_mutated(loss_fn):
    W, X, y = _problem(5, N=8, D=4, C=3)
    copies = [a.copy() for a in (W, X, y)]
    loss_fn(W, X, y, 0.1)
    for before, after in zip(copies, (W, X, y)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("loss_fn", ALL)
@pytest.mark.parametrize(
    "change, match",
    [
        (dict(W=np.ones((4, 3), dtype=int)), "W must have a floating-point dtype"),
        (dict(W=np.ones(4)), "W must have 2 dimensions"),
        (dict(X=np.ones((6, 5))), r"X must have shape \(any, 4\)"),
        (dict(X=np.ones((6, 4), dtype=np.int64)), "X must have a floating-point dtype"),
        (dict(X=np.ones((0, 4)), y=np.zeros(0, dtype=int)), "at least one example"),
        (dict(y=np.zeros(6)), "integer labels"),
        (dict(y=np.zeros(5, dtype=int)), r"shape \(6,\)"),
        (dict(y=np.array([0, 1, 2, 3, 0, 1])), r"labels in \[0, 2\]"),
        (dict(y=np.array([0, 1, 2, -1, 0, 1])), r"labels in \[0, 2\]"),
        (dict(reg=-0.1), "reg must be a non-negative number"),
        (dict(reg="0.1"), "reg must be a non-negative number"),
    ],
)
def test_bad_input(loss_fn, change, match):
    args = dict(W=np.ones((4, 3)), X=np.ones((6, 4)), y=np.array([0, 1, 2, 2, 0, 1]), reg=0.0)
    args.update(change)
    with pytest.raises(ValueError, match=match):
        loss_fn(args["W"], args["X"], args["y"], args["reg"])
