"""Numeric gradients by centred differences, for checking analytic gradients.

The centred difference ``(f(x + h) - f(x - h)) / (2h)`` has error O(h^2),
far better than the one-sided O(h). All functions perturb ``x`` in place and
restore it, so ``x`` must be a float array that ``f`` reads.
"""
import numpy as np


def rel_error(x, y):
    """Largest elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    x, y: arrays of the same shape (or scalars). Returns a Python float.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error expects arrays of equal shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _require_float(x):
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"numeric gradients need a floating-point numpy array to perturb, got "
            f"{type(x).__name__} with dtype {getattr(x, 'dtype', None)}"
        )


def _values_around(f, x, ix, h):
    """(f(x with x[ix] + h), f(x with x[ix] - h)), restoring x[ix] afterwards."""
    old = x[ix]
    x[ix] = old + h
    plus = np.array(f(x), copy=True)
    x[ix] = old - h
    minus = np.array(f(x), copy=True)
    x[ix] = old
    return plus, minus


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Gradient of a scalar function ``f`` at ``x``.

    f: callable taking x and returning a float.
    x: float array of any shape. Returns grad with x's shape.
    """
    _require_float(x)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        ix = it.multi_index
        f_plus, f_minus = _values_around(f, x, ix, h)
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient of ``sum(f(x) * df)`` at ``x``, for an array-valued ``f``.

    f: callable taking x and returning an array of df's shape.
    df: upstream gradient. Returns grad with x's shape.
    """
    _require_float(x)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        ix = it.multi_index
        pos, neg = _values_around(f, x, ix, h)
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=0, verbose=True):
    """Compare ``analytic_grad`` with centred differences at ``num_checks`` random entries.

    f: scalar function of x; x and analytic_grad have the same shape.
    Returns a numpy array of the relative errors (one per checked entry).
    """
    _require_float(x)
    if np.shape(analytic_grad) != x.shape:
        raise ValueError(
            f"analytic_grad has shape {np.shape(analytic_grad)}, expected x's shape {x.shape}"
        )
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        f_plus, f_minus = _values_around(f, x, ix, h)
        numeric = float(f_plus - f_minus) / (2 * h)
        analytic = analytic_grad[ix]
        err = abs(numeric - analytic) / max(1e-8, abs(numeric) + abs(analytic))
        errors.append(err)
        if verbose:
            print(f"numerical: {numeric:f} analytic: {analytic:f}, relative error: {err:e}")
    return np.array(errors)


class Blob:
    """A value and its gradient, the way CS231n's blob-based layers passed data around.

    vals: the array (float). diffs: its gradient, same shape (zeros if not given).
    Any object with ``vals`` and ``diffs`` arrays works with the functions below;
    this class is the smallest such object.
    """

    def __init__(self, vals, diffs=None):
        self.vals = vals
        self.diffs = np.zeros_like(vals) if diffs is None else diffs


def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
    """Numeric gradients for a function that reads input blobs and writes an output blob.

    f: called as ``f(*inputs, output)``; it reads each ``blob.vals`` of inputs and
    writes its result into ``output.vals``.
    inputs: tuple of blobs; output: blob whose ``diffs`` hold the upstream gradient.
    Returns a list with, for every input blob, the gradient of
    ``sum(output.vals * output.diffs)`` with respect to its vals (same shape).
    """
    inputs = tuple(inputs)

    def run(_vals):  # the perturbed values are read by f through the blob itself
        f(*inputs, output)
        return output.vals

    return [eval_numerical_gradient_array(run, blob.vals, output.diffs, h=h) for blob in inputs]


def eval_numerical_gradient_net(net, inputs, output, h=1e-5):
    """Numeric gradients of a blob network: ``net.forward()`` reads inputs, writes output.

    Same as eval_numerical_gradient_blobs with f = net.forward (called without arguments).
    """
    return eval_numerical_gradient_blobs(lambda *blobs: net.forward(), inputs, output, h=h)
