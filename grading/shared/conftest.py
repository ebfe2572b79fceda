"""Helpers of every assignment's hidden tests (instructor-only; never released).

The grader copies this file, the manifest's ``shared_tests`` and the
assignment's own ``hidden/`` folder into one sandbox folder.

The grader puts the student's kit first on the path (``course_utils``) and the
instructor's reference next to it as ``course_utils_reference``. Student
modules are imported inside each test, so a module that does not import costs
only the tests that need it.
"""
import copy
import importlib

import numpy as np
import pytest


@pytest.fixture
def student():
    """student("classifiers.linear_svm") -> the student's module."""
    return lambda name: importlib.import_module(f"course_utils.{name}")


@pytest.fixture
def reference():
    """reference("classifiers.linear_svm") -> the instructor's module."""
    return lambda name: importlib.import_module(f"course_utils_reference.{name}")


def assert_same(mine, expected, rtol=1e-6, atol=1e-8, where="result"):
    """Arrays, numbers, tuples, lists and dicts equal up to floating-point tolerance."""
    if isinstance(expected, dict):
        assert isinstance(mine, dict) and set(mine) == set(expected), f"{where}: keys {sorted(mine)} != {sorted(expected)}"
        for key in expected:
            assert_same(mine[key], expected[key], rtol, atol, f"{where}[{key!r}]")
    elif isinstance(expected, (tuple, list)):
        assert len(mine) == len(expected), f"{where}: {len(mine)} values, expected {len(expected)}"
        for i, (a, b) in enumerate(zip(mine, expected)):
            assert_same(a, b, rtol, atol, f"{where}[{i}]")
    elif isinstance(expected, (np.ndarray, float, int, np.floating, np.integer)):
        mine = np.asarray(mine)
        assert mine.shape == np.shape(expected), f"{where}: shape {mine.shape}, expected {np.shape(expected)}"
        np.testing.assert_allclose(mine, expected, rtol=rtol, atol=atol, err_msg=where)
    else:
        assert mine == expected, where


def forward_backward(module, forward, backward, args, seed):
    """Run forward then backward (upstream gradient drawn from ``seed``); return (out, grads, args after)."""
    args = copy.deepcopy(args)
    out, cache = getattr(module, forward)(*args)
    dout = np.random.default_rng(seed).normal(size=np.shape(out))
    grads = getattr(module, backward)(dout, cache) if backward else None
    return out, grads, args
