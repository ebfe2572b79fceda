"""Shared helpers of the hidden tests (instructor-only; never released).

The grader puts the student's kit first on the path (``course_utils``) and the
instructor's reference next to it as ``course_utils_reference``. Student
modules are imported inside each test, so a module that does not import costs
only the tests that need it.
"""
import importlib

import pytest


@pytest.fixture
def student():
    """student("classifiers.linear_svm") -> the student's module."""
    return lambda name: importlib.import_module(f"course_utils.{name}")


@pytest.fixture
def reference():
    """reference("classifiers.linear_svm") -> the instructor's module."""
    return lambda name: importlib.import_module(f"course_utils_reference.{name}")
