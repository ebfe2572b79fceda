"""Writing files so that a reader never sees half of one.

``atomic_write(path)`` hands out a temporary file in the target's folder; only
when the ``with`` block finishes without an error is it renamed over ``path``
(``os.replace`` is atomic on one filesystem). On any error the temporary file
is removed and an existing ``path`` is left exactly as it was. The new file
gets ``mode`` (default 0o644, readable by all as a plain ``open`` would make
it), not the private 0o600 of a temporary file.
"""
import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, mode=0o644):
    """Context manager yielding a binary file object that becomes ``path`` (with ``mode``) on success."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            yield f
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
