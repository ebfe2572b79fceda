"""Where a command may write: checks made before anything is written.

No command overwrites, deletes or creates outside what it was asked without
``--force``: a file where a folder is expected (and the reverse) and a missing
parent folder are errors that say what to do, and nothing is created on the way.
"""
from pathlib import Path


class OutputError(ValueError):
    """An output path that cannot be used as asked; the message names it and the fix."""


def check_parent(path):
    """The folder that would hold ``path`` must exist (it is never created on the way)."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise OutputError(f"the folder {parent} does not exist: create it first, or choose a path in an existing folder")


def check_new_file(path, force=False):
    """``path`` can receive a file: not a folder, in an existing folder, new unless ``force``."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder: give the path of the file to write (a new name, in that folder or another)")
    check_parent(path)
    if path.exists() and not force:
        raise OutputError(f"{path} already exists: add --force to replace it, or choose another name")


def check_folder(path):
    """``path`` is a folder or can become one (nothing but a folder is in its place)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file, not a folder: give the path of a folder (new or empty)")


def check_empty_folder(path, force=False):
    """``path`` can receive a whole tree: no file in its place, and empty unless ``force``."""
    check_folder(path)
    path = Path(path)
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputError(f"{path} is not empty: add --force to replace everything in it, or choose a new folder")
