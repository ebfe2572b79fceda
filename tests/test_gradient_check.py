import numpy as np
import pytest

from course_utils.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
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
