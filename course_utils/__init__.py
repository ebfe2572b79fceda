"""course_utils: the library the assignment notebooks import.

Students complete the marked regions of its modules; the notebooks check,
train and visualise them. See API.md in the course's shared notes for the
contract every module follows. Submodules are imported explicitly, e.g.
``from course_utils.layers import affine_forward``.
"""

__version__ = "0.1.0"
