"""Input validation shared by every module: one place that words the errors.

Each helper raises ``ValueError`` saying what was expected and what was given,
and returns the (possibly converted) value so calls read as assignments.
"""
import numpy as np


def check_array(x, name, ndim=None, shape=None, floating=False):
    """Require a numpy array; optionally its ndim, shape and a float dtype.

    shape: tuple whose entries are ints or None (None = any size on that axis).
    Returns x unchanged.
    """
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        want = f"shape {_fmt(shape)}" if shape is not None else f"{ndim} dimensions"
        raise ValueError(f"{name} must have {want}, got shape {x.shape}")
    if shape is not None:
        if len(shape) != x.ndim or any(s is not None and s != d for s, d in zip(shape, x.shape)):
            raise ValueError(f"{name} must have shape {_fmt(shape)}, got {x.shape}")
    if floating and not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name} must have a floating-point dtype, got {x.dtype}")
    return x


def as_float_array(value, name, dtype):
    """Accept numbers the way CS231n code does: convert, don't refuse.

    A floating-point numpy array is returned unchanged; an integer array, a
    list or tuple of numbers, or a single number is converted to ``dtype``
    (e.g. ``np.asarray([3, 4, 5])`` used as a scale). Anything else (strings,
    booleans, complex or ragged data) raises ValueError.
    """
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        return value
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested lists
        array = None
    if array is None or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        got = f"dtype {array.dtype}" if array is not None else "ragged nested sequences"
        raise ValueError(
            f"{name} must be a numpy array of real numbers (floats, or integers which are "
            f"converted), got {type(value).__name__} with {got}"
        )
    return array.astype(dtype)


def check_labels(y, name, n, num_classes=None):
    """Require integer labels of shape (n,) in range [0, num_classes)."""
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        got = getattr(y, "dtype", type(y).__name__)
        raise ValueError(f"{name} must be a numpy array of integer labels, got {got}")
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the inputs, got {y.shape}")
    if num_classes is not None and n and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{name} must hold labels in [0, {num_classes - 1}], "
            f"got values from {y.min()} to {y.max()}"
        )
    return y


def check_positive_int(value, name, minimum=1):
    """Require an integer >= minimum (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_nonnegative(value, name):
    """Require a real number >= 0 (bools are refused) -> float."""
    if isinstance(value, bool) or not np.isscalar(value) or not np.isreal(value) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def check_keys(mapping, name, required=()):
    """Require a dict holding every key of ``required``."""
    if not isinstance(mapping, dict):
        raise ValueError(f"{name} must be a dict, got {type(mapping).__name__}")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise ValueError(f"{name} is missing key(s) {missing}; expected {list(required)}")
    return mapping


def check_dout(dout, shape):
    """Require an upstream gradient of exactly the forward output's shape."""
    return check_array(dout, "dout", ndim=len(shape), shape=shape, floating=True)


def _fmt(shape):
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def implemented(value, what):
    """Return ``value``; raise NotImplementedError if it is still None.

    Student regions of the released kit are ``pass`` stubs, so a function whose
    result is initialised to None before its region would silently return None.
    Reference code returns ``implemented(out, "affine_forward")`` instead, which
    is a no-op for the solution and a clear message for an unfinished stub.
    """
    if value is None:
        raise NotImplementedError(
            f"{what} is not implemented yet: complete the code between the "
            "START OF YOUR CODE / END OF YOUR CODE markers"
        )
    return value
