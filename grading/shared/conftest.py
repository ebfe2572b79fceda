"""Helpers of every assignment's hidden tests (instructor-only; never released).

The grader copies this file, the manifest's ``shared_tests`` and the
assignment's own ``hidden/`` folder into one sandbox folder.

The tests run in the grader's harness, a process that never runs student code.
The grader's plugin provides the fixtures: ``student("layers")`` is a proxy of
the student's module in a contained worker process (calls, attribute reads and
writes go there and plain data comes back, see
``course_utils.grading.harness.worker_client``); ``reference("layers")`` is the
instructor's module, imported here as ``course_utils_reference``. A student's exception is raised
as a ``StudentCodeError`` that is also its built-in type, so ``pytest.raises``
works. Failure messages are what students read: ``assert_same`` names the value,
the shape or the largest error and where, never the expected value.
"""
import copy

import numpy as np


def assert_same(mine, expected, rtol=1e-6, atol=1e-8, where="result"):
    """Arrays, numbers, tuples, lists and dicts equal up to floating-point tolerance.

    The message says what differs (keys, length, shape, the largest error and its
    position) without showing the expected values."""
    if isinstance(expected, dict):
        assert isinstance(mine, dict), f"{where}: expected a dict, got {type(mine).__name__}"
        assert set(mine) == set(expected), f"{where}: keys {sorted(map(str, mine))}, expected {sorted(map(str, expected))}"
        for key in expected:
            assert_same(mine[key], expected[key], rtol, atol, f"{where}[{key!r}]")
    elif isinstance(expected, (tuple, list)):
        assert isinstance(mine, (tuple, list)), f"{where}: expected a sequence, got {type(mine).__name__}"
        assert len(mine) == len(expected), f"{where}: {len(mine)} values, expected {len(expected)}"
        for i, (a, b) in enumerate(zip(mine, expected)):
            assert_same(a, b, rtol, atol, f"{where}[{i}]")
    elif isinstance(expected, (np.ndarray, float, int, np.floating, np.integer, np.bool_, bool)):
        assert_close(mine, expected, rtol, atol, where)
    else:
        assert mine == expected, f"{where}: wrong value"


def assert_close(mine, expected, rtol, atol, where):
    try:
        mine = np.asarray(mine, dtype=np.result_type(np.asarray(expected).dtype, np.float64))
    except (TypeError, ValueError):
        raise AssertionError(f"{where}: expected numbers, got {type(mine).__name__}") from None
    expected = np.asarray(expected)
    assert mine.shape == expected.shape, f"{where}: shape {mine.shape}, expected {expected.shape}"
    if mine.size == 0:
        return
    flat_mine, flat_expected = mine.ravel(), expected.ravel().astype(mine.dtype)
    nan_ok = np.isnan(flat_mine) == np.isnan(flat_expected)
    assert nan_ok.all(), f"{where}: NaN at {_index(np.argmin(nan_ok), mine.shape)} where a number was expected"
    error = np.abs(flat_mine - flat_expected)
    excess = np.where(np.isnan(error), -1.0, error - (atol + rtol * np.abs(flat_expected)))
    worst = int(np.argmax(excess))
    if excess[worst] > 0:
        scale = max(float(np.abs(flat_expected[worst])), 1e-300)
        raise AssertionError(f"{where}: max relative error {float(error[worst]) / scale:.1e} at "
                             f"{_index(worst, mine.shape)}, tolerance rtol={rtol:g}, atol={atol:g}")


def _index(flat, shape):
    return [int(i) for i in np.unravel_index(flat, shape)] if shape else "the value"


def forward_backward(module, forward, backward, args, seed):
    """Run forward then backward (upstream gradient drawn from ``seed``); return (out, grads, args after)."""
    args = copy.deepcopy(args)
    out, cache = getattr(module, forward)(*args)
    dout = np.random.default_rng(seed).normal(size=np.shape(out))
    grads = getattr(module, backward)(dout, cache) if backward else None
    return out, grads, args
