"""The layout of a kit (the instructor's source or a student release).

Everything here derives from the files themselves, so there is no second list
to keep in sync: the files a student may edit are the ``course_utils`` modules
that contain solution markers, plus the assignment's notebooks.
"""
import json
import re
from pathlib import Path

from course_utils.markers import has_solution_markers

ASSIGNMENT_NAME = re.compile(r"^assignment\d+$")


def normalize_assignment(name):
    """``"1"``, ``"assignment1"`` or ``"assignments/assignment1/"`` -> ``"assignment1"``."""
    text = str(name).strip().rstrip("/").split("/")[-1]
    if text.isdigit():
        text = f"assignment{text}"
    if not ASSIGNMENT_NAME.match(text):
        raise ValueError(f"assignment must look like 'assignment1' or '1', got {name!r}")
    return text


def assignments(root):
    """Names of the assignment folders of a kit, in numeric order."""
    folder = Path(root) / "assignments"
    found = [p.name for p in folder.glob("assignment*") if p.is_dir() and ASSIGNMENT_NAME.match(p.name)]
    return sorted(found, key=lambda n: int(n[len("assignment"):]))


def notebooks(root, assignment):
    """Relative paths (posix strings) of an assignment's notebooks, sorted."""
    folder = Path(root) / "assignments" / assignment
    return sorted(f"assignments/{assignment}/{p.name}" for p in folder.glob("*.ipynb"))


def required_notebooks(root, assignment):
    """The notebooks a submission must hold: as listed by the release (questions.json), so a
    deleted notebook still counts as missing; in the source, the notebooks present."""
    listing = Path(root) / "assignments" / assignment / "questions.json"
    if listing.exists():
        return sorted(json.loads(listing.read_text(encoding="utf-8")).get("notebooks", []))
    return notebooks(root, assignment)


def editable_modules(root):
    """Relative paths of the ``course_utils`` files that hold solution markers, sorted."""
    package = Path(root) / "course_utils"
    found = []
    for path in sorted(package.rglob("*")):
        if path.suffix not in (".py", ".pyx") or "__pycache__" in path.parts or not path.is_file():
            continue
        if has_solution_markers(path.read_text(encoding="utf-8", errors="replace")):
            found.append(path.relative_to(root).as_posix())
    return found


def editable_files(root, assignment):
    """Everything a student may hand in for ``assignment``: editable modules + its notebooks."""
    return editable_modules(root) + notebooks(root, assignment)


def find_root(start="."):
    """The kit folder holding ``start`` (the nearest parent with course_utils/ and assignments/)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "course_utils").is_dir() and (folder / "assignments").is_dir():
            return folder
    raise FileNotFoundError(f"{here} is not inside a course kit (no course_utils/ and assignments/ above it)")


def source_root():
    """The folder of the course_utils package that is running (the instructor's source)."""
    return Path(__file__).resolve().parents[2]
