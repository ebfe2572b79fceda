import numpy as np
import pytest

from course_utils.gradient_check import (
    Blob,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    eval_numerical_gradient_blobs,
    eval_numerical_gradient_net,
    grad_check_sparse,
    rel_error,
)


def test_rel_error_fixed_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    # tiny values are measured against the 1e-8 floor, not blown up
    assert rel_error(np.array([0.0]), np.array([1e-12])) == pytest.approx(1e-4)


def test_rel_error_shape_mismatch():
    with pytest.raises(ValueError, match="equal shape"):
        rel_error(np.zeros(3), np.zeros(4))


def test_numerical_gradient_of_quadratic():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    f = lambda v: float(v @ A @ v)
    grad = eval_numerical_gradient(f, x, verbose=False)
    assert rel_error(grad, (A + A.T) @ x) < 1e-8


def test_numerical_gradient_array_matches_matrix_product():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, 5))
    x = rng.standard_normal((2, 3))
    df = rng.standard_normal((2, 5))
    grad = eval_numerical_gradient_array(lambda v: v @ W, x, df)
    assert rel_error(grad, df @ W.T) < 1e-8


def test_grad_check_sparse_catches_a_wrong_gradient():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    f = lambda v: float(np.sum(v ** 3))
    good = grad_check_sparse(f, x, 3 * x ** 2, num_checks=5, verbose=False)
    bad = grad_check_sparse(f, x, 3 * x ** 2 + 1.0, num_checks=5, verbose=False)
    assert good.shape == (5,) and good.max() < 1e-7
    assert bad.min() > 1e-3


def test_integer_input_is_refused():
    with pytest.raises(ValueError, match="floating-point"):
        eval_numerical_gradient(lambda v: 0.0, np.arange(3), verbose=False)


# ----------------------------------------------------------------- blobs (CS231n's old layer API)

def affine_blobs(x, w, out):
    """A blob layer: reads x.vals (N, D) and w.vals (D, M), writes out.vals = x @ w."""
    out.vals[...] = x.vals @ w.vals


def test_blob_defaults_and_fixed_gradients():
    x, w = Blob(np.array([[1.0, 2.0]])), Blob(np.array([[3.0], [4.0]]))
    out = Blob(np.zeros((1, 1)), diffs=np.array([[1.0]]))
    np.testing.assert_array_equal(x.diffs, np.zeros((1, 2)))
    dx, dw = eval_numerical_gradient_blobs(affine_blobs, (x, w), out)
    np.testing.assert_allclose(dx, [[3.0, 4.0]])
    np.testing.assert_allclose(dw, [[1.0], [2.0]])
    np.testing.assert_array_equal(x.vals, [[1.0, 2.0]])  # restored after perturbing
    np.testing.assert_array_equal(w.vals, [[3.0], [4.0]])


def test_blob_gradients_match_the_analytic_ones():
    rng = np.random.default_rng(4)
    x, w = Blob(rng.standard_normal((3, 4))), Blob(rng.standard_normal((4, 2)))
    out = Blob(np.zeros((3, 2)), diffs=rng.standard_normal((3, 2)))
    dx, dw = eval_numerical_gradient_blobs(affine_blobs, [x, w], out)
    assert rel_error(dx, out.diffs @ w.vals.T) < 1e-9
    assert rel_error(dw, x.vals.T @ out.diffs) < 1e-9


def test_net_gradients_call_forward_without_arguments():
    class Net:
        def __init__(self):
            self.x, self.out = Blob(np.array([1.0, -2.0, 3.0])), Blob(np.zeros(3), diffs=np.array([1.0, 1.0, 2.0]))
            self.calls = 0

        def forward(self):
            self.calls += 1
            self.out.vals[...] = self.x.vals ** 2

    net = Net()
    (dx,) = eval_numerical_gradient_net(net, [net.x], net.out)
    np.testing.assert_allclose(dx, [2.0, -4.0, 12.0])  # d/dx sum(diffs * x^2) = 2 x diffs
    assert net.calls == 6  # two evaluations per entry
